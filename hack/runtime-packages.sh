#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries a binary links, one per line,
# sorted: what the container image's runtime stage installs next to the binary (Dockerfile).
# Fails, naming the library, when a library belongs to no package (it would be missing at run
# time).
# Usage: hack/runtime-packages.sh BINARY
set -euo pipefail

binary=${1:?usage: hack/runtime-packages.sh BINARY}
[[ -x $binary ]] || { echo "runtime-packages: $binary is not an executable" >&2; exit 1; }

# owner PATH: the package owning PATH; dpkg knows a file by the path its package installed it
# under, which with the merged /usr may be /lib/... or /usr/lib/....
owner() {
  local path=$1 real candidate
  real=$(readlink -f "$path")
  for candidate in "$path" "$real" "/usr$path" "/usr$real" "${path#/usr}" "${real#/usr}"; do
    if out=$(dpkg-query -S "$candidate" 2>/dev/null); then
      echo "${out%%:*}" | cut -d, -f1
      return 0
    fi
  done
  return 1
}

packages=()
while read -r lib path; do
  [[ -n $path ]] || continue
  if ! pkg=$(owner "$path"); then
    echo "runtime-packages: $lib ($path) belongs to no Debian package" >&2
    exit 1
  fi
  packages+=("$pkg")
done < <(ldd "$binary" | awk '/=>/ && $3 ~ /^\// {print $1, $3} !/=>/ && $1 ~ /^\// {print $1, $1}')

printf '%s\n' "${packages[@]}" | sort -u
