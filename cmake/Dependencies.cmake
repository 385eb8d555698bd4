# All third-party dependencies come from Debian 12 packages. Each lookup names the package to install
# when it fails, so a fresh machine gets a message it can act on (or run scripts/install-deps.sh).
find_package(PkgConfig)
if(NOT PkgConfig_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config (or run scripts/install-deps.sh)")
endif()

macro(kvsim_require_package found debian_pkg what)
  if(NOT ${found})
    message(FATAL_ERROR "${what} not found: apt-get install ${debian_pkg} (or run scripts/install-deps.sh)")
  endif()
endmacro()

pkg_check_modules(SimGrid IMPORTED_TARGET simgrid>=3.32)
kvsim_require_package(SimGrid_FOUND "libsimgrid-dev" "SimGrid >= 3.32")
find_package(Boost QUIET)
kvsim_require_package(Boost_FOUND "libboost-dev" "Boost headers (needed by SimGrid's headers)")

find_package(fmt QUIET)
kvsim_require_package(fmt_FOUND "libfmt-dev" "fmt")
find_package(spdlog QUIET)
kvsim_require_package(spdlog_FOUND "libspdlog-dev" "spdlog")
find_package(yaml-cpp QUIET)
kvsim_require_package(yaml-cpp_FOUND "libyaml-cpp-dev" "yaml-cpp")
find_package(nlohmann_json 3.10 QUIET)
kvsim_require_package(nlohmann_json_FOUND "nlohmann-json3-dev" "nlohmann-json")
find_package(CLI11 QUIET)
kvsim_require_package(CLI11_FOUND "libcli11-dev" "CLI11")
if(KVSIM_BUILD_TESTS)
  find_package(GTest QUIET)
  kvsim_require_package(GTest_FOUND "libgtest-dev" "GoogleTest")
endif()

# Optional: MPI (Debian libopenmpi-dev, openmpi-bin) for `mpirun -n K kvsim sweep` (docs/sweeps.md).
option(KVSIM_MPI "Build MPI sweeps when MPI is found" ON)
if(KVSIM_MPI)
  find_package(MPI COMPONENTS CXX QUIET)
endif()
