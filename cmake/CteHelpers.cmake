# Small helpers in the spirit of Abseil's AbseilHelpers.cmake: every target of ours gets the same
# language level and warnings, and warnings become errors when the CI environment variable is set.

set(CTE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor)
if(DEFINED ENV{CI} OR CTE_WERROR)
  list(APPEND CTE_WARNINGS -Werror)
endif()

# The asan preset's tests write sanitizer reports (leaks included) to <build>/sanitizer-reports/
# (LSAN_OPTIONS in CMakePresets.json's asan test preset); the directory must exist.
if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=[^ ]*address")
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/sanitizer-reports)
endif()

# cte_cc_library(NAME n SRCS ... [DEPS ...])
function(cte_cc_library)
  cmake_parse_arguments(CTE "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${CTE_NAME} STATIC ${CTE_SRCS})
  target_include_directories(${CTE_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${CTE_NAME} PRIVATE ${CTE_WARNINGS})
  target_link_libraries(${CTE_NAME} PUBLIC ${CTE_DEPS})
endfunction()

# cte_cc_binary(NAME n SRCS ... [DEPS ...])
function(cte_cc_binary)
  cmake_parse_arguments(CTE "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${CTE_NAME} ${CTE_SRCS})
  target_include_directories(${CTE_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${CTE_NAME} PRIVATE ${CTE_WARNINGS})
  target_link_libraries(${CTE_NAME} PRIVATE ${CTE_DEPS})
endfunction()

# cte_cc_test(NAME n SRCS ... [DEPS ...] [LABEL unit|integration|e2e])
# Registers each GoogleTest case with CTest so failures are reported per test.
function(cte_cc_test)
  cmake_parse_arguments(CTE "" "NAME;LABEL" "SRCS;DEPS" ${ARGN})
  if(NOT CTE_LABEL)
    set(CTE_LABEL unit)
  endif()
  add_executable(${CTE_NAME} ${CTE_SRCS})
  target_include_directories(${CTE_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${CTE_NAME} PRIVATE ${CTE_WARNINGS})
  target_link_libraries(${CTE_NAME} PRIVATE ${CTE_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${CTE_NAME} PRIVATE
    CTE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" CTE_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}")
  gtest_discover_tests(${CTE_NAME} PROPERTIES LABELS ${CTE_LABEL} DISCOVERY_TIMEOUT 30)
endfunction()

include(GoogleTest)
