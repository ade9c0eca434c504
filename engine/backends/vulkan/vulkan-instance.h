// Instance: RAII owner of a VkInstance created for headless compute (no window-system
// extensions, no layers), plus the physical devices it sees. Shared by the device query and the
// compute Context.
#pragma once

#include "moe/status.h"

#include <vulkan/vulkan.h>

#include <memory>
#include <vector>

namespace moe::vulkan {

class Instance {
public:
    // Vulkan 1.1 instance (subgroup properties are core there). Failure: the loader found no
    // driver (VK_ERROR_INCOMPATIBLE_DRIVER) or ran out of memory, as a Status naming the call.
    static Result<std::unique_ptr<Instance>> create();
    ~Instance();
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    VkInstance handle() const { return m_instance; }
    // Physical devices in the loader's order; the index is the device index the engine uses.
    Result<std::vector<VkPhysicalDevice>> physicalDevices() const;

private:
    explicit Instance(VkInstance instance) : m_instance(instance) {}
    VkInstance m_instance = VK_NULL_HANDLE;
};

} // namespace moe::vulkan
