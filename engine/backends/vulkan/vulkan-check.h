// MOE_VK_CHECK: how every Vulkan call in this backend reports failure. A result other than
// VK_SUCCESS becomes a moe::Status (DeviceError; OutOfMemory for the two out-of-memory results)
// naming the call, file:line and the VkResult. Nothing here aborts.
#pragma once

#include "moe/status.h"

#include <vulkan/vulkan.h>

namespace moe::vulkan {

// "VK_ERROR_DEVICE_LOST" for VK_ERROR_DEVICE_LOST; nullptr for values it does not know.
const char* vkResultName(VkResult result);

// The Status for `result` returned by `call` at file:line; Status::ok() for VK_SUCCESS.
Status vkStatus(VkResult result, const char* call, const char* file, int line);

} // namespace moe::vulkan

// MOE_VK_CHECK(call): evaluates a VkResult expression; on anything but VK_SUCCESS returns the
// Status from the enclosing function (which returns Status or Result<T>).
#define MOE_VK_CHECK(call)                                                                         \
    do {                                                                                           \
        const VkResult moeVkResult_ = (call);                                                      \
        if (moeVkResult_ != VK_SUCCESS)                                                            \
            return ::moe::vulkan::vkStatus(moeVkResult_, #call, __FILE__, __LINE__);               \
    } while (0)
