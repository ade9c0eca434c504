// ComputePipeline: one compute shader made ready to dispatch: shader module, descriptor set
// layout (N storage buffers at set 0, bindings 0..N-1), pipeline layout with one push-constant
// range, the pipeline, and a descriptor pool for per-dispatch sets. Owned by a Context.
#pragma once

#include "moe/status.h"

#include <vulkan/vulkan.h>

#include <memory>
#include <span>
#include <string>

namespace moe::vulkan {

class Buffer;
class Context;

class ComputePipeline {
public:
    // Builds the pipeline from SPIR-V words whose entry point is "main". Failure: DeviceError
    // naming the call and the pipeline (for example, SPIR-V the driver rejects).
    static Result<std::unique_ptr<ComputePipeline>> create(VkDevice device, std::string name,
                                                           std::span<const uint32_t> spirv,
                                                           uint32_t nBuffers, uint32_t pushBytes);
    ~ComputePipeline();
    ComputePipeline(const ComputePipeline&) = delete;
    ComputePipeline& operator=(const ComputePipeline&) = delete;

    // Binds `buffers` (exactly nBuffers, in binding order) and `push` (exactly pushBytes), records
    // one vkCmdDispatch(groupsX, 1, 1) with a compute->host barrier, submits and waits.
    // Failure: InvalidArgument on a count or size mismatch; DeviceError naming the call.
    Status dispatch(Context& ctx, std::span<const Buffer* const> buffers,
                    std::span<const std::byte> push, uint32_t groupsX);

    const std::string& name() const { return m_name; }

private:
    ComputePipeline(VkDevice device, std::string name, uint32_t nBuffers, uint32_t pushBytes)
        : m_device(device), m_name(std::move(name)), m_nBuffers(nBuffers), m_pushBytes(pushBytes) {}

    VkDevice m_device = VK_NULL_HANDLE;
    std::string m_name;
    uint32_t m_nBuffers = 0;
    uint32_t m_pushBytes = 0;
    VkShaderModule m_shader = VK_NULL_HANDLE;
    VkDescriptorSetLayout m_setLayout = VK_NULL_HANDLE;
    VkPipelineLayout m_layout = VK_NULL_HANDLE;
    VkPipeline m_pipeline = VK_NULL_HANDLE;
    VkDescriptorPool m_pool = VK_NULL_HANDLE;
};

} // namespace moe::vulkan
