// Stream: the ordered command stream of the Vulkan backend, and the compute pipelines it runs.
//
// Ops record into one command buffer (begun on the first command after a submission); nothing
// is submitted until flush(), which download() and sync() call: a decode step is one submission,
// and no op waits on the host. Every recorded command is followed by a full compute/transfer
// memory barrier, so commands see each other's writes in issue order (correct everywhere; finer
// barriers are later performance work). Descriptor sets come from per-submission pools reset by
// flush().
//
// Pipelines share one layout: kBindings storage buffers at set 0 (bindings 0..7, whole chunks of
// the DeviceHeap; shaders take element offsets in push constants) and kPushBytes of push
// constants. A pipeline is built on first use from embedded SPIR-V and cached by name and
// specialization constants (constant_id 0, 1, ... in order).
#pragma once

#include "backends/vulkan/vulkan-memory.h"
#include "moe/status.h"

#include <vulkan/vulkan.h>

#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace moe::vulkan {

class Context;

class Stream {
public:
    static constexpr uint32_t kBindings = 8;
    static constexpr uint32_t kPushBytes = 128;

    Stream(Context& ctx, DeviceHeap& heap, StagingArena& staging)
        : m_ctx(ctx), m_heap(heap), m_staging(staging) {}
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // Creates the shared descriptor-set and pipeline layouts; Unsupported when the device binds
    // fewer than kBindings storage buffers per stage.
    Status init();

    Result<VkPipeline> pipeline(const char* name, std::span<const uint32_t> spirv,
                                std::vector<uint32_t> spec);

    // Records one dispatch: bindings[i] is bound at binding i (at most kBindings; unused bindings
    // repeat bindings[0]), push is copied as the push constants (<= kPushBytes).
    Status dispatch(VkPipeline pipeline, std::span<const BufferRef> bindings, const void* push,
                    uint32_t pushBytes, uint32_t groupsX, uint32_t groupsY = 1,
                    uint32_t groupsZ = 1);
    // Records a buffer-to-buffer copy.
    Status copy(VkBuffer src, VkDeviceSize srcOffset, VkBuffer dst, VkDeviceSize dstOffset,
                VkDeviceSize bytes);
    // Submits what was recorded and waits; then resets descriptor pools and staging and lets the
    // heap destroy released chunks. A no-op when nothing was recorded.
    Status flush();

private:
    Result<VkCommandBuffer> commandBuffer();
    void barrier(VkCommandBuffer cmd);
    Result<VkDescriptorSet> descriptorSet();

    Context& m_ctx;
    DeviceHeap& m_heap;
    StagingArena& m_staging;
    VkDescriptorSetLayout m_setLayout = VK_NULL_HANDLE;
    VkPipelineLayout m_layout = VK_NULL_HANDLE;
    std::map<std::pair<std::string, std::vector<uint32_t>>, std::pair<VkShaderModule, VkPipeline>>
        m_pipelines;
    std::map<std::string, VkShaderModule> m_modules;
    std::vector<VkDescriptorPool> m_pools; // m_pools[m_poolIndex] hands out sets
    size_t m_poolIndex = 0;
    VkCommandBuffer m_cmd = VK_NULL_HANDLE;
    bool m_recording = false;
};

} // namespace moe::vulkan
