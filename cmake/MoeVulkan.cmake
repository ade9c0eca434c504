# Vulkan detection and shader embedding. MOE_VULKAN=AUTO turns the backend on when the Vulkan
# headers/loader and glslc are found. Shaders are compiled to SPIR-V at build time and embedded
# as byte arrays, so installed binaries need no shader files.
set(MOE_HAVE_VULKAN OFF)
if(NOT MOE_VULKAN STREQUAL "OFF")
    find_package(Vulkan QUIET)
    find_program(MOE_GLSLC glslc)
    if(Vulkan_FOUND AND MOE_GLSLC)
        set(MOE_HAVE_VULKAN ON)
    elseif(MOE_VULKAN STREQUAL "ON")
        message(FATAL_ERROR "MOE_VULKAN=ON but Vulkan headers/loader or glslc were not found "
                            "(apt-get install libvulkan-dev glslc)")
    endif()
endif()

# moe_embed_shaders(OUT_VAR SHADERS a.comp b.comp ...): compiles each shader with glslc and writes
# a header <name>.spv.h defining `inline constexpr uint32_t kSpv_<name>[]`; OUT_VAR receives the
# generated headers (add them to a target's sources). Include dir: ${CMAKE_BINARY_DIR}/shaders.
function(moe_embed_shaders out_var)
    cmake_parse_arguments(ARG "" "" "SHADERS" ${ARGN})
    set(out_dir ${CMAKE_BINARY_DIR}/shaders)
    file(MAKE_DIRECTORY ${out_dir})
    set(headers)
    foreach(src ${ARG_SHADERS})
        get_filename_component(name ${src} NAME_WE)
        string(MAKE_C_IDENTIFIER ${name} ident)
        set(spv ${out_dir}/${name}.spv)
        set(hdr ${out_dir}/${name}.spv.h)
        add_custom_command(
            OUTPUT ${hdr}
            COMMAND ${MOE_GLSLC} --target-env=vulkan1.1 -O -o ${spv} ${src}
            COMMAND ${CMAKE_COMMAND} -DSPV=${spv} -DHDR=${hdr} -DIDENT=${ident}
                    -P ${CMAKE_SOURCE_DIR}/cmake/MoeSpvToHeader.cmake
            DEPENDS ${src} ${CMAKE_SOURCE_DIR}/cmake/MoeSpvToHeader.cmake
            COMMENT "glslc ${name}.comp"
            VERBATIM)
        list(APPEND headers ${hdr})
    endforeach()
    set(${out_var} ${headers} PARENT_SCOPE)
endfunction()
