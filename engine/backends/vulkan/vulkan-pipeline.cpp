// ComputePipeline: creation from embedded SPIR-V and a blocking single dispatch.
// The descriptor pool holds one set: dispatch() is synchronous, so the set is reset and reused
// by the next call instead of allocating per call.
#include "backends/vulkan/vulkan-pipeline.h"

#include "backends/vulkan/vulkan-buffer.h"
#include "backends/vulkan/vulkan-check.h"
#include "backends/vulkan/vulkan-context.h"

#include <vector>

namespace moe::vulkan {

Result<std::unique_ptr<ComputePipeline>> ComputePipeline::create(VkDevice device, std::string name,
                                                                 std::span<const uint32_t> spirv,
                                                                 uint32_t nBuffers,
                                                                 uint32_t pushBytes) {
    if (spirv.empty() || nBuffers == 0)
        return Status(StatusCode::InvalidArgument,
                      "vulkan pipeline '" + name + "': empty SPIR-V or no buffers");
    std::unique_ptr<ComputePipeline> p(
        new ComputePipeline(device, std::move(name), nBuffers, pushBytes));

    const VkShaderModuleCreateInfo moduleInfo{
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .codeSize = spirv.size_bytes(),
        .pCode = spirv.data(),
    };
    MOE_VK_CHECK(vkCreateShaderModule(device, &moduleInfo, nullptr, &p->m_shader));

    std::vector<VkDescriptorSetLayoutBinding> bindings(nBuffers);
    for (uint32_t b = 0; b < nBuffers; ++b) {
        bindings[b] = VkDescriptorSetLayoutBinding{
            .binding = b,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
            .pImmutableSamplers = nullptr,
        };
    }
    const VkDescriptorSetLayoutCreateInfo setInfo{
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .bindingCount = nBuffers,
        .pBindings = bindings.data(),
    };
    MOE_VK_CHECK(vkCreateDescriptorSetLayout(device, &setInfo, nullptr, &p->m_setLayout));

    const VkPushConstantRange pushRange{
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = pushBytes};
    const VkPipelineLayoutCreateInfo layoutInfo{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .setLayoutCount = 1,
        .pSetLayouts = &p->m_setLayout,
        .pushConstantRangeCount = pushBytes > 0 ? 1u : 0u,
        .pPushConstantRanges = pushBytes > 0 ? &pushRange : nullptr,
    };
    MOE_VK_CHECK(vkCreatePipelineLayout(device, &layoutInfo, nullptr, &p->m_layout));

    const VkComputePipelineCreateInfo pipelineInfo{
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .stage =
            VkPipelineShaderStageCreateInfo{
                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .pNext = nullptr,
                .flags = 0,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = p->m_shader,
                .pName = "main",
                .pSpecializationInfo = nullptr,
            },
        .layout = p->m_layout,
        .basePipelineHandle = VK_NULL_HANDLE,
        .basePipelineIndex = -1,
    };
    MOE_VK_CHECK(vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &pipelineInfo, nullptr,
                                          &p->m_pipeline));

    const VkDescriptorPoolSize poolSize{.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                        .descriptorCount = nBuffers};
    const VkDescriptorPoolCreateInfo poolInfo{
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .maxSets = 1,
        .poolSizeCount = 1,
        .pPoolSizes = &poolSize,
    };
    MOE_VK_CHECK(vkCreateDescriptorPool(device, &poolInfo, nullptr, &p->m_pool));
    return p;
}

ComputePipeline::~ComputePipeline() {
    if (m_pool) vkDestroyDescriptorPool(m_device, m_pool, nullptr);
    if (m_pipeline) vkDestroyPipeline(m_device, m_pipeline, nullptr);
    if (m_layout) vkDestroyPipelineLayout(m_device, m_layout, nullptr);
    if (m_setLayout) vkDestroyDescriptorSetLayout(m_device, m_setLayout, nullptr);
    if (m_shader) vkDestroyShaderModule(m_device, m_shader, nullptr);
}

Status ComputePipeline::dispatch(Context& ctx, std::span<const Buffer* const> buffers,
                                 std::span<const std::byte> push, uint32_t groupsX) {
    if (buffers.size() != m_nBuffers || push.size() != m_pushBytes)
        return Status(StatusCode::InvalidArgument,
                      "vulkan pipeline '" + m_name + "': expected " + std::to_string(m_nBuffers) +
                          " buffers and " + std::to_string(m_pushBytes) + " push bytes, got " +
                          std::to_string(buffers.size()) + " and " + std::to_string(push.size()));
    if (groupsX == 0) return Status::ok();

    MOE_VK_CHECK(vkResetDescriptorPool(m_device, m_pool, 0));
    VkDescriptorSet set = VK_NULL_HANDLE;
    const VkDescriptorSetAllocateInfo allocInfo{
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .pNext = nullptr,
        .descriptorPool = m_pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &m_setLayout,
    };
    MOE_VK_CHECK(vkAllocateDescriptorSets(m_device, &allocInfo, &set));

    std::vector<VkDescriptorBufferInfo> infos(m_nBuffers);
    std::vector<VkWriteDescriptorSet> writes(m_nBuffers);
    for (uint32_t b = 0; b < m_nBuffers; ++b) {
        infos[b] = VkDescriptorBufferInfo{
            .buffer = buffers[b]->handle(), .offset = 0, .range = VK_WHOLE_SIZE};
        writes[b] = VkWriteDescriptorSet{
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .pNext = nullptr,
            .dstSet = set,
            .dstBinding = b,
            .dstArrayElement = 0,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pImageInfo = nullptr,
            .pBufferInfo = &infos[b],
            .pTexelBufferView = nullptr,
        };
    }
    vkUpdateDescriptorSets(m_device, m_nBuffers, writes.data(), 0, nullptr);

    return ctx.submitAndWait([&](VkCommandBuffer cmd) {
        vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, m_pipeline);
        vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, m_layout, 0, 1, &set, 0,
                                nullptr);
        if (!push.empty())
            vkCmdPushConstants(cmd, m_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, uint32_t(push.size()),
                               push.data());
        vkCmdDispatch(cmd, groupsX, 1, 1);
        // Make the shader's writes visible to host reads of the mapped memory.
        const VkMemoryBarrier barrier{
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .pNext = nullptr,
            .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
        };
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                             0, 1, &barrier, 0, nullptr, 0, nullptr);
    });
}

} // namespace moe::vulkan
