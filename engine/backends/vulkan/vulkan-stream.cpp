// Stream: command recording, barriers, descriptor sets, submission, pipeline cache.
#include "backends/vulkan/vulkan-stream.h"

#include "backends/vulkan/vulkan-check.h"
#include "backends/vulkan/vulkan-context.h"

#include <array>
#include <cstring>
#include <string>

namespace moe::vulkan {
namespace {

constexpr uint32_t kSetsPerPool = 512;
constexpr uint64_t kFenceTimeoutNs = 600ull * 1000 * 1000 * 1000;

} // namespace

Stream::~Stream() {
    VkDevice d = m_ctx.device();
    (void)vkDeviceWaitIdle(d);
    for (auto& [key, p] : m_pipelines)
        vkDestroyPipeline(d, p.second, nullptr);
    for (auto& [name, m] : m_modules)
        vkDestroyShaderModule(d, m, nullptr);
    for (VkDescriptorPool p : m_pools)
        vkDestroyDescriptorPool(d, p, nullptr);
    if (m_cmd) vkFreeCommandBuffers(d, m_ctx.commandPool(), 1, &m_cmd);
    if (m_layout) vkDestroyPipelineLayout(d, m_layout, nullptr);
    if (m_setLayout) vkDestroyDescriptorSetLayout(d, m_setLayout, nullptr);
}

Status Stream::init() {
    if (m_ctx.caps().maxStorageBuffersPerStage < kBindings)
        return Status(
            StatusCode::Unsupported,
            "vulkan: the device binds " + std::to_string(m_ctx.caps().maxStorageBuffersPerStage) +
                " storage buffers per stage; the kernels need " + std::to_string(kBindings));
    std::array<VkDescriptorSetLayoutBinding, kBindings> bindings{};
    for (uint32_t b = 0; b < kBindings; ++b)
        bindings[b] =
            VkDescriptorSetLayoutBinding{.binding = b,
                                         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                         .descriptorCount = 1,
                                         .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
                                         .pImmutableSamplers = nullptr};
    const VkDescriptorSetLayoutCreateInfo setInfo{
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .bindingCount = kBindings,
        .pBindings = bindings.data(),
    };
    MOE_VK_CHECK(vkCreateDescriptorSetLayout(m_ctx.device(), &setInfo, nullptr, &m_setLayout));
    const VkPushConstantRange push{
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = kPushBytes};
    const VkPipelineLayoutCreateInfo layoutInfo{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .setLayoutCount = 1,
        .pSetLayouts = &m_setLayout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &push,
    };
    MOE_VK_CHECK(vkCreatePipelineLayout(m_ctx.device(), &layoutInfo, nullptr, &m_layout));
    return Status::ok();
}

Result<VkPipeline> Stream::pipeline(const char* name, std::span<const uint32_t> spirv,
                                    std::vector<uint32_t> spec) {
    auto key = std::make_pair(std::string(name), spec);
    if (auto it = m_pipelines.find(key); it != m_pipelines.end()) return it->second.second;
    VkShaderModule& module = m_modules[name];
    if (!module) {
        const VkShaderModuleCreateInfo info{
            .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
            .pNext = nullptr,
            .flags = 0,
            .codeSize = spirv.size_bytes(),
            .pCode = spirv.data(),
        };
        MOE_VK_CHECK(vkCreateShaderModule(m_ctx.device(), &info, nullptr, &module));
    }
    std::vector<VkSpecializationMapEntry> entries(spec.size());
    for (uint32_t i = 0; i < spec.size(); ++i)
        entries[i] = VkSpecializationMapEntry{.constantID = i, .offset = i * 4, .size = 4};
    const VkSpecializationInfo specInfo{
        .mapEntryCount = uint32_t(entries.size()),
        .pMapEntries = entries.data(),
        .dataSize = spec.size() * 4,
        .pData = spec.data(),
    };
    const VkComputePipelineCreateInfo info{
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .pNext = nullptr,
        .flags = 0,
        .stage =
            VkPipelineShaderStageCreateInfo{
                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .pNext = nullptr,
                .flags = 0,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = module,
                .pName = "main",
                .pSpecializationInfo = spec.empty() ? nullptr : &specInfo,
            },
        .layout = m_layout,
        .basePipelineHandle = VK_NULL_HANDLE,
        .basePipelineIndex = -1,
    };
    VkPipeline p = VK_NULL_HANDLE;
    const VkResult r =
        vkCreateComputePipelines(m_ctx.device(), VK_NULL_HANDLE, 1, &info, nullptr, &p);
    if (r != VK_SUCCESS)
        return Status(StatusCode::DeviceError,
                      std::string("vulkan pipeline '") + name +
                          "': vkCreateComputePipelines failed: " +
                          (vkResultName(r) ? vkResultName(r) : "unknown result"));
    m_pipelines[key] = {module, p};
    return p;
}

Result<VkCommandBuffer> Stream::commandBuffer() {
    if (m_recording) return m_cmd;
    if (!m_cmd) {
        const VkCommandBufferAllocateInfo info{
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
            .pNext = nullptr,
            .commandPool = m_ctx.commandPool(),
            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
            .commandBufferCount = 1,
        };
        MOE_VK_CHECK(vkAllocateCommandBuffers(m_ctx.device(), &info, &m_cmd));
    }
    const VkCommandBufferBeginInfo begin{
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .pNext = nullptr,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
        .pInheritanceInfo = nullptr,
    };
    MOE_VK_CHECK(vkBeginCommandBuffer(m_cmd, &begin));
    m_recording = true;
    return m_cmd;
}

void Stream::barrier(VkCommandBuffer cmd) {
    const VkMemoryBarrier b{
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .pNext = nullptr,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                         VK_ACCESS_HOST_READ_BIT,
    };
    const VkPipelineStageFlags stages =
        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(cmd, stages, stages | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &b, 0, nullptr, 0,
                         nullptr);
}

Result<VkDescriptorSet> Stream::descriptorSet() {
    // Pools are filled in order and all reset by flush(), so a long generation reuses them.
    while (true) {
        if (m_poolIndex == m_pools.size()) {
            const VkDescriptorPoolSize size{.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                            .descriptorCount = kSetsPerPool * kBindings};
            const VkDescriptorPoolCreateInfo info{
                .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                .pNext = nullptr,
                .flags = 0,
                .maxSets = kSetsPerPool,
                .poolSizeCount = 1,
                .pPoolSizes = &size,
            };
            VkDescriptorPool pool = VK_NULL_HANDLE;
            MOE_VK_CHECK(vkCreateDescriptorPool(m_ctx.device(), &info, nullptr, &pool));
            m_pools.push_back(pool);
        }
        VkDescriptorSet set = VK_NULL_HANDLE;
        const VkDescriptorSetAllocateInfo info{
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .pNext = nullptr,
            .descriptorPool = m_pools[m_poolIndex],
            .descriptorSetCount = 1,
            .pSetLayouts = &m_setLayout,
        };
        const VkResult r = vkAllocateDescriptorSets(m_ctx.device(), &info, &set);
        if (r == VK_SUCCESS) return set;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
            return vkStatus(r, "vkAllocateDescriptorSets", __FILE__, __LINE__);
        ++m_poolIndex;
    }
}

Status Stream::dispatch(VkPipeline pipeline, std::span<const BufferRef> bindings, const void* push,
                        uint32_t pushBytes, uint32_t gx, uint32_t gy, uint32_t gz) {
    if (bindings.empty() || bindings.size() > kBindings || pushBytes > kPushBytes)
        return Status(StatusCode::InvalidArgument,
                      "vulkan dispatch: " + std::to_string(bindings.size()) + " bindings, " +
                          std::to_string(pushBytes) + " push bytes");
    if (gx == 0 || gy == 0 || gz == 0) return Status::ok();
    MOE_ASSIGN_OR_RETURN(VkDescriptorSet set, descriptorSet());
    std::array<VkDescriptorBufferInfo, kBindings> infos{};
    std::array<VkWriteDescriptorSet, kBindings> writes{};
    for (uint32_t b = 0; b < kBindings; ++b) {
        const BufferRef& ref = b < bindings.size() ? bindings[b] : bindings[0];
        infos[b] =
            VkDescriptorBufferInfo{.buffer = ref.buffer, .offset = 0, .range = VK_WHOLE_SIZE};
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
    vkUpdateDescriptorSets(m_ctx.device(), kBindings, writes.data(), 0, nullptr);
    MOE_ASSIGN_OR_RETURN(VkCommandBuffer cmd, commandBuffer());
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, m_layout, 0, 1, &set, 0, nullptr);
    std::array<std::byte, kPushBytes> pushData{};
    if (pushBytes) std::memcpy(pushData.data(), push, pushBytes);
    vkCmdPushConstants(cmd, m_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes, pushData.data());
    vkCmdDispatch(cmd, gx, gy, gz);
    barrier(cmd);
    return Status::ok();
}

Status Stream::copy(VkBuffer src, VkDeviceSize srcOffset, VkBuffer dst, VkDeviceSize dstOffset,
                    VkDeviceSize bytes) {
    if (bytes == 0) return Status::ok();
    MOE_ASSIGN_OR_RETURN(VkCommandBuffer cmd, commandBuffer());
    const VkBufferCopy region{.srcOffset = srcOffset, .dstOffset = dstOffset, .size = bytes};
    vkCmdCopyBuffer(cmd, src, dst, 1, &region);
    barrier(cmd);
    return Status::ok();
}

Status Stream::flush() {
    if (m_recording) {
        m_recording = false;
        MOE_VK_CHECK(vkEndCommandBuffer(m_cmd));
        const VkSubmitInfo submit{
            .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
            .pNext = nullptr,
            .waitSemaphoreCount = 0,
            .pWaitSemaphores = nullptr,
            .pWaitDstStageMask = nullptr,
            .commandBufferCount = 1,
            .pCommandBuffers = &m_cmd,
            .signalSemaphoreCount = 0,
            .pSignalSemaphores = nullptr,
        };
        VkFence fence = m_ctx.fence();
        MOE_VK_CHECK(vkResetFences(m_ctx.device(), 1, &fence));
        MOE_VK_CHECK(vkQueueSubmit(m_ctx.queue(), 1, &submit, fence));
        const VkResult waited =
            vkWaitForFences(m_ctx.device(), 1, &fence, VK_TRUE, kFenceTimeoutNs);
        if (waited == VK_TIMEOUT) {
            MOE_VK_CHECK(vkQueueWaitIdle(m_ctx.queue()));
            return Status(StatusCode::DeviceError,
                          "vulkan: a submission did not finish within 600 s");
        }
        MOE_VK_CHECK(waited);
        MOE_VK_CHECK(vkResetCommandBuffer(m_cmd, 0));
    }
    for (VkDescriptorPool p : m_pools)
        MOE_VK_CHECK(vkResetDescriptorPool(m_ctx.device(), p, 0));
    m_poolIndex = 0;
    m_staging.reset();
    m_heap.collect();
    return Status::ok();
}

} // namespace moe::vulkan
