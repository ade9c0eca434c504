# Vulkan detection and shader embedding. MOE_VULKAN=AUTO turns the backend on when the Vulkan
# headers/loader and glslc are found. Shaders are compiled to SPIR-V at build time and embedded
# as byte arrays, so installed binaries need no shader files.
set(MOE_HAVE_VULKAN OFF)
# The folder of this module: moe_embed_shaders runs MoeSpvToHeader.cmake from here, wherever it is
# called from (CMAKE_CURRENT_LIST_DIR inside a function is the caller's folder).
set(MOE_CMAKE_MODULE_DIR ${CMAKE_CURRENT_LIST_DIR})
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

# moe_embed_shaders(OUT_VAR [TARGET name] [INCLUDES x.glsl ...] SHADERS a.comp b.comp ...): compiles
# each shader with
# glslc and writes a header <name>.spv.h defining `inline constexpr uint32_t kSpv_<name>[]`;
# OUT_VAR receives the generated headers (add them to a target's sources). Include dir:
# ${CMAKE_BINARY_DIR}/shaders. A custom command's outputs only get build rules for targets of the
# directory that calls this; when the consuming target lives elsewhere (moe_engine is defined in
# engine/, the shaders are embedded from engine/backends/vulkan/), pass TARGET and
# add_dependencies(<consumer> <name>) so the headers exist before the consumer compiles. INCLUDES:
# the files the shaders #include (GL_GOOGLE_include_directive); every shader is rebuilt when one
# changes.
function(moe_embed_shaders out_var)
    cmake_parse_arguments(ARG "" "TARGET" "SHADERS;INCLUDES" ${ARGN})
    set(out_dir ${CMAKE_BINARY_DIR}/shaders)
    file(MAKE_DIRECTORY ${out_dir})
    set(headers)
    foreach(src_arg ${ARG_SHADERS})
        # Relative paths are relative to the calling CMakeLists; glslc runs in the build dir.
        get_filename_component(src ${src_arg} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
        get_filename_component(name ${src} NAME_WE)
        string(MAKE_C_IDENTIFIER ${name} ident)
        set(spv ${out_dir}/${name}.spv)
        set(hdr ${out_dir}/${name}.spv.h)
        add_custom_command(
            OUTPUT ${hdr}
            COMMAND ${MOE_GLSLC} --target-env=vulkan1.1 -O -Werror -o ${spv} ${src}
            COMMAND ${CMAKE_COMMAND} -DSPV=${spv} -DHDR=${hdr} -DIDENT=${ident}
                    -P ${MOE_CMAKE_MODULE_DIR}/MoeSpvToHeader.cmake
            DEPENDS ${src} ${ARG_INCLUDES} ${MOE_CMAKE_MODULE_DIR}/MoeSpvToHeader.cmake
            COMMENT "glslc ${name}.comp"
            VERBATIM)
        list(APPEND headers ${hdr})
    endforeach()
    if(ARG_TARGET)
        add_custom_target(${ARG_TARGET} DEPENDS ${headers})
    endif()
    set(${out_var} ${headers} PARENT_SCOPE)
endfunction()
