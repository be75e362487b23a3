# CMake toolchain for cross-building Blindfold for aarch64 (ARM64) Linux on
# a Debian amd64 machine: Debian's g++-aarch64-linux-gnu, the :arm64
# library packages (multiarch, under /usr/lib/aarch64-linux-gnu) and
# qemu-aarch64 (qemu-user) to run the test binaries. scripts/arm_cross_test.sh
# installs all of it and uses this file:
#   cmake -S . -B build-arm -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Headers of the :arm64 -dev packages are the same files as amd64's under
# /usr/include; their libraries, CMake configs and .pc files live in the
# multiarch directory. Programs (protoc and the like) come from the host.
set(CMAKE_FIND_ROOT_PATH /usr/lib/aarch64-linux-gnu /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")

# Test binaries run (and gtest_discover_tests lists them) under qemu-user,
# which finds the arm64 loader and libraries of the :arm64 packages
# (libc6:arm64 and the rest) in their multiarch directories.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
