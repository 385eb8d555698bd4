# Runs kvsim on one malformed scenario and checks that it is refused the way the corpus promises: exit code 2,
# the message on the case's first line (`# expect: <substring>`), the case's file name in the output (messages
# name the file), and no output directory left behind. In the expected message, <dir> stands for the case's folder.
#   cmake -DKVSIM=<kvsim binary> -DCASE=<case.yaml> -DOUT=<output dir> -P run_case.cmake
foreach(var KVSIM CASE OUT)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_case.cmake: pass -D${var}=...")
  endif()
endforeach()

file(READ "${CASE}" text)
if(NOT text MATCHES "^# expect: ([^\n]+)\n# mistake: [^\n]+\n")
  message(FATAL_ERROR "${CASE}: the first line must be `# expect: <message>` and the second `# mistake: <what>`")
endif()
set(expect "${CMAKE_MATCH_1}")
get_filename_component(name "${CASE}" NAME)
get_filename_component(dir "${CASE}" DIRECTORY)
string(REPLACE "<dir>" "${dir}" expect "${expect}")

file(REMOVE_RECURSE "${OUT}")
execute_process(COMMAND "${KVSIM}" run "${CASE}" --out "${OUT}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE output TIMEOUT 120)

set(problems "")
if(NOT "${rc}" STREQUAL "2")
  string(APPEND problems "\n  exit code is '${rc}', expected 2")
endif()
string(FIND "${output}" "${expect}" at)
if(at EQUAL -1)
  string(APPEND problems "\n  output lacks the expected message: ${expect}")
endif()
string(FIND "${output}" "${name}" at)
if(at EQUAL -1)
  string(APPEND problems "\n  output does not name the file ${name}")
endif()
if(EXISTS "${OUT}")
  file(REMOVE_RECURSE "${OUT}")
  string(APPEND problems "\n  output directory ${OUT} was left behind")
endif()
if(NOT problems STREQUAL "")
  message(FATAL_ERROR "${name}:${problems}\n--- kvsim run ${CASE} --out ${OUT} printed:\n${output}")
endif()
