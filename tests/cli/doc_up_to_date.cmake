# Fails when docs/scenario-format.md differs from what `kvsim schema` generates from the declared keys.
execute_process(COMMAND ${KVSIM} schema --format markdown OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "kvsim schema failed with ${rc}")
endif()
file(READ ${DOC} committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "docs/scenario-format.md is stale: run `build/sim/kvsim schema > docs/scenario-format.md`")
endif()
