# The check of remix-minimal, run by CTest as a CMake script:
#   cmake -DPROGRAM=<program> -DARGS=<a,b,c> -DMIN_ACCURACY=<percent> [-DEXPECT_REJECTED=ON]
#         -P remix_minimal_check.cmake
# Accepts a run that exits with status 0 and prints "test accuracy X %" with X > MIN_ACCURACY;
# anything else is rejected with the reason. EXPECT_REJECTED=ON inverts the verdict, so that the
# check itself is tested on outputs it must refuse.
string(REPLACE "," ";" arguments "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${arguments} RESULT_VARIABLE status OUTPUT_VARIABLE output
                ERROR_VARIABLE errors)
message("${output}${errors}")

set(rejected "")
if(NOT status EQUAL 0)
  set(rejected "the program exited with status ${status}")
elseif(NOT output MATCHES "test accuracy ([0-9]+\\.[0-9]+) %")
  set(rejected "the program printed no 'test accuracy X %' line")
elseif(NOT CMAKE_MATCH_1 GREATER MIN_ACCURACY)
  set(rejected "test accuracy ${CMAKE_MATCH_1} % is not above ${MIN_ACCURACY} %")
endif()

if(EXPECT_REJECTED AND rejected STREQUAL "")
  message(FATAL_ERROR "the check accepted a run it should have rejected")
elseif(NOT EXPECT_REJECTED AND NOT rejected STREQUAL "")
  message(FATAL_ERROR "${rejected}")
endif()
if(rejected STREQUAL "")
  message("accepted")
else()
  message("rejected, as expected: ${rejected}")
endif()
