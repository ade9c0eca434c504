// KvView: what a family's forward needs from a KV cache — per layer, contiguous K and V rows of
// width kvDim for positions [0, capacity). The runtime's KvCache implements it (and the paged and
// MLA-latent caches will), so models/ does not depend on runtime/.
#pragma once

namespace moe {

class KvView {
public:
    virtual ~KvView() = default;
    virtual int capacity() const = 0;
    virtual float* layerK(int il) = 0;
    virtual float* layerV(int il) = 0;
};

} // namespace moe
