// Shared by the compute shaders of the Vulkan backend (engine/backends/vulkan/).
// Buffers are whole DeviceHeap chunks (set 0, bindings 0..7); a shader reaches its arrays at
// element offsets given in push constants. Large 1-D launches are split over X and Y by the host
// (vulkan-backend.h grid()): groupIndex() is the linear workgroup index.
#ifndef MOE_COMMON_GLSL
#define MOE_COMMON_GLSL

uint groupIndex() {
    return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}

#endif
