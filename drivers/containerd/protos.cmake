# containerd's gRPC API as C++ stubs, made at build time from the .proto files Debian ships
# (golang-github-containerd-containerd-dev; gogo.proto from golang-github-gogo-protobuf-dev),
# installed, or unpacked into build/deps by ./ctrbench.sh (apt-get download): the services
# the containerd driver calls (version, containers, snapshots, tasks), their message types, and the
# runc shim's options. protoc's C++ generator refuses `import weak` (gogo.proto), so the files are
# copied into the build tree with a plain `import` first.
set(_gocode ${CMAKE_SOURCE_DIR}/build/deps/usr/share/gocode/src)  # where ./ctrbench.sh unpacks them
foreach(dir /usr/share/gocode/src ${CMAKE_BINARY_DIR}/deps/usr/share/gocode/src)
  if(EXISTS ${dir}/github.com/containerd/containerd/api AND EXISTS ${dir}/github.com/gogo/protobuf/gogoproto)
    set(_gocode ${dir})
    break()
  endif()
endforeach()
set(CTRBENCH_GOCODE ${_gocode} CACHE PATH "where Debian's golang-*-dev packages put their source")
find_package(Protobuf REQUIRED)
# gRPC's own CMake package (Debian ships it), not pkg-config: pkg_check_modules walks grpc++'s
# ~100 abseil .pc files in each of its ~20 pkg-config calls (measured: 31.7 s of a 33 s configure).
find_package(gRPC CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
set(_cd github.com/containerd/containerd)
set(_services api/services/version/v1/version api/services/containers/v1/containers
              api/services/snapshots/v1/snapshots api/services/tasks/v1/tasks)
set(_messages api/types/mount api/types/metrics api/types/descriptor api/types/task/task
              runtime/v2/runc/options/oci)
set(_in ${CMAKE_BINARY_DIR}/containerd-proto/in)
set(_out ${CMAKE_BINARY_DIR}/containerd-proto/out)
set(_protos gogoproto/gogo.proto)
set(_srcs ${_out}/gogoproto/gogo.pb.cc)
foreach(p ${_services} ${_messages})
  list(APPEND _protos ${_cd}/${p}.proto)
  list(APPEND _srcs ${_out}/${_cd}/${p}.pb.cc)
endforeach()
foreach(p ${_services})
  list(APPEND _srcs ${_out}/${_cd}/${p}.grpc.pb.cc)
endforeach()
set(_copies)
foreach(p ${_protos})
  if(p STREQUAL gogoproto/gogo.proto)
    set(_from ${CTRBENCH_GOCODE}/github.com/gogo/protobuf/gogoproto/gogo.proto)
  else()
    set(_from ${CTRBENCH_GOCODE}/${p})
  endif()
  if(NOT EXISTS ${_from})
    message(FATAL_ERROR "${_from} is missing: ./ctrbench.sh setup unpacks it into build/deps (or apt-get install golang-github-containerd-containerd-dev golang-github-gogo-protobuf-dev)")
  endif()
  list(APPEND _copies ${_in}/${p})
  get_filename_component(_dir ${_in}/${p} DIRECTORY)
  add_custom_command(OUTPUT ${_in}/${p}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_dir}
    COMMAND sed "s/^import weak /import /" ${_from} > ${_in}/${p}
    DEPENDS ${_from} VERBATIM)
endforeach()
set(_headers ${_srcs})
list(TRANSFORM _headers REPLACE "\\.cc$" ".h")
add_custom_command(OUTPUT ${_srcs} ${_headers}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_out}
  COMMAND protobuf::protoc -I${_in} -I${Protobuf_INCLUDE_DIRS} --cpp_out=${_out} --grpc_out=${_out}
          --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN} ${_protos}
  WORKING_DIRECTORY ${_in}
  DEPENDS ${_copies}
  COMMENT "Generating containerd's gRPC stubs")
add_library(ctrbench_containerd_api STATIC ${_srcs})
target_include_directories(ctrbench_containerd_api SYSTEM PUBLIC ${_out})
target_link_libraries(ctrbench_containerd_api PUBLIC protobuf::libprotobuf gRPC::grpc++)
# Generated code: no project warnings, no sanitizer instrumentation, -O1 without debug information
# (it only encodes a few small messages per call; -O2 -g doubled the build's longest step).
set_property(TARGET ctrbench_containerd_api PROPERTY COMPILE_OPTIONS -w -O1 -g0)
