# `cmake --install build --prefix P`: the headers, the static libraries, the programs and a CMake
# package, so that another project builds against remix with
#   find_package(remix REQUIRED)              # CMAKE_PREFIX_PATH=P
#   target_link_libraries(app PRIVATE remix::remix)
# Headers keep their paths under P/include/remix ("tensor/tensor.h", "apps/trainer.h", ...).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(REMIX_LIBRARIES remix_tensor remix_autograd remix_nn remix_data remix_augment remix_dist remix_app)
add_library(remix INTERFACE)
target_link_libraries(remix INTERFACE ${REMIX_LIBRARIES})
foreach(library ${REMIX_LIBRARIES})
  set_target_properties(${library} PROPERTIES EXPORT_NAME ${library})
endforeach()

install(TARGETS ${REMIX_LIBRARIES} remix EXPORT remixTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/remix)
foreach(dir tensor autograd nn data augment dist apps cuda)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/remix/${dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "*.cuh")
endforeach()
install(TARGETS remix-train remix-bench remix-plot remix-cam RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(REMIX_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/remix)
install(EXPORT remixTargets NAMESPACE remix:: DESTINATION ${REMIX_PACKAGE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/remixConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/remixConfig.cmake
                              INSTALL_DESTINATION ${REMIX_PACKAGE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/remixConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/remixConfig.cmake ${PROJECT_BINARY_DIR}/remixConfigVersion.cmake
        DESTINATION ${REMIX_PACKAGE_DIR})
