# Fuzz targets (tests/fuzz/fuzz_<name>.c), included at the end of the top
# CMakeLists.txt once lp2p_core and lp2p_proto exist.
#
# Normal build (any compiler): fuzz_replay_<name> links the target with
# replay.c and ctest runs it over tests/fuzz/corpus/<name> as
# fuzz_replay_<name> (label "fuzz"); under LP2P_SANITIZE it runs with ASan.
#
# -DLP2P_FUZZ=ON (clang only): the engines are built with coverage
# instrumentation plus ASan/UBSan, and fuzz_<name> are the libFuzzer
# binaries. scripts/fuzz.sh configures and runs them in build-fuzz/.
# fuzz_gen_corpus (not built by default) regenerates the seed corpus.

option(LP2P_FUZZ "Build the libFuzzer targets (clang only)" OFF)

set(LP2P_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
set(LP2P_FUZZ_TARGETS conn noise_handshake yamux mplex multistream der
    noise_transport keys multiaddr varint tls_cert tls plaintext ws_http ws quic
    perf)

if(LP2P_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LP2P_FUZZ needs clang (libFuzzer); "
                        "configure with -DCMAKE_C_COMPILER=clang")
  endif()
  set(LP2P_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined
      -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  # The whole core (lp2p_base and the GnuTLS module's objects) is
  # instrumented for coverage; every program that links it, and the module,
  # then needs the sanitizer runtimes.
  foreach(l lp2p_base lp2p_gnutls_obj lp2p_proto)
    target_compile_options(${l} PRIVATE ${LP2P_FUZZ_FLAGS})
  endforeach()
  target_link_options(lp2p_base INTERFACE -fsanitize=address,undefined)
  target_link_options(lp2p-interop-gnutls PRIVATE -fsanitize=address,undefined)
  foreach(t ${LP2P_FUZZ_TARGETS})
    add_executable(fuzz_${t} ${LP2P_FUZZ_DIR}/fuzz_${t}.c
                   ${LP2P_FUZZ_DIR}/fuzz_util.c)
    target_compile_options(fuzz_${t} PRIVATE ${LP2P_FUZZ_FLAGS})
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_${t} PRIVATE lp2p_core)
  endforeach()
endif()

if(LP2P_TESTS)
  foreach(t ${LP2P_FUZZ_TARGETS})
    add_executable(fuzz_replay_${t} ${LP2P_FUZZ_DIR}/replay.c
                   ${LP2P_FUZZ_DIR}/fuzz_${t}.c ${LP2P_FUZZ_DIR}/fuzz_util.c)
    target_link_libraries(fuzz_replay_${t} PRIVATE lp2p_core)
    add_test(NAME fuzz_replay_${t}
             COMMAND fuzz_replay_${t} ${LP2P_FUZZ_DIR}/corpus/${t})
    set_tests_properties(fuzz_replay_${t} PROPERTIES TIMEOUT 300 LABELS fuzz)
  endforeach()
  add_executable(fuzz_gen_corpus EXCLUDE_FROM_ALL
                 ${LP2P_FUZZ_DIR}/gen_corpus.c ${LP2P_FUZZ_DIR}/fuzz_util.c)
  target_link_libraries(fuzz_gen_corpus PRIVATE lp2p_core)
endif()
