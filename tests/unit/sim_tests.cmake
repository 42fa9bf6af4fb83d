# The simulator's unit tests (test_sim.c), included at the end of
# tests/unit/CMakeLists.txt. Same scheme as the core suites: one ctest per
# cmocka_unit_test(name); with RINGLAB_SANITIZE the sim sources are built
# again into the asan_ executable, against the ASan/UBSan core.
if(NOT TARGET ringlab_sim OR NOT COMMAND ringlab_unit_suite)
  return()
endif()

ringlab_unit_suite(sim ringlab_core "")
target_link_libraries(test_sim PRIVATE ringlab_sim)

if(RINGLAB_SANITIZE AND TARGET ringlab_core_asan)
  ringlab_unit_suite(sim ringlab_core_asan _asan)
  target_sources(test_sim_asan PRIVATE ${RINGLAB_SIM_SOURCES})
  list(GET RINGLAB_SIM_SOURCES 0 sim_c)
  get_filename_component(sim_dir ${sim_c} DIRECTORY)
  target_include_directories(test_sim_asan PRIVATE ${sim_dir})
endif()
