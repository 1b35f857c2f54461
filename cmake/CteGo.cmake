# Go tools of the repository (hack/render-chart, hack/crd-docs). They build offline from Debian's
# Go packages in GOPATH mode (golang-go and golang-*-dev from hack/setup-deps.sh): no module
# proxy, no network. Binaries land in build/bin/ next to the C++ ones.

find_program(CTE_GO go)
if(NOT CTE_GO)
  message(FATAL_ERROR "go not found: run hack/setup-deps.sh (it installs golang-go and the Go "
                      "libraries the chart renderer needs)")
endif()

set(CTE_GO_ENV
  GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0
  GOCACHE=${CMAKE_BINARY_DIR}/go-cache)

# cte_go_binary(NAME n DIR source-dir): `go build` of the package in DIR into build/bin/n.
function(cte_go_binary)
  cmake_parse_arguments(CTE "" "NAME;DIR" "" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CTE_DIR}/*.go)
  list(FILTER srcs EXCLUDE REGEX "_test\\.go$")
  set(out ${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/${CTE_NAME})
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E env ${CTE_GO_ENV} ${CTE_GO} build -trimpath -o ${out} .
    WORKING_DIRECTORY ${CTE_DIR}
    DEPENDS ${srcs}
    COMMENT "go build ${CTE_NAME}"
    VERBATIM)
  add_custom_target(${CTE_NAME} ALL DEPENDS ${out})
endfunction()

# cte_go_test(NAME n DIR source-dir [LABEL unit]): `go test` of the package in DIR as one CTest.
function(cte_go_test)
  cmake_parse_arguments(CTE "" "NAME;DIR;LABEL" "" ${ARGN})
  if(NOT CTE_LABEL)
    set(CTE_LABEL unit)
  endif()
  add_test(NAME ${CTE_NAME}
    COMMAND ${CMAKE_COMMAND} -E env ${CTE_GO_ENV} ${CTE_GO} test -count=1 .
    WORKING_DIRECTORY ${CTE_DIR})
  set_tests_properties(${CTE_NAME} PROPERTIES LABELS ${CTE_LABEL} TIMEOUT 300)
endfunction()
