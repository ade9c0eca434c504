// KvView: what a family's forward needs from a KV cache. Per layer, one pool of pages of
// pageSize() token rows: K rows kDim wide, V rows vDim wide (the widths of the family's
// KvGeometry). A sequence maps its logical page i (positions i*pageSize ..) to a physical page
// through pageTable(seq); reserve() makes positions [0, n) addressable. The runtime's KvCache
// implements it, so models/ does not depend on runtime/.
#pragma once

#include "moe/status.h"

#include <cstdint>

namespace moe {

class KvView {
public:
    virtual ~KvView() = default;
    virtual int pageSize() const = 0;
    // The most positions a sequence can hold.
    virtual int capacity() const = 0;
    virtual float* layerK(int il) = 0; // page pool base of layer il
    virtual float* layerV(int il) = 0; // null when the family keeps no V rows
    virtual const int32_t* pageTable(int seq) const = 0;
    // Pages for positions [0, nPositions) of seq; errors when the pool or the capacity is short.
    virtual Status reserve(int seq, int nPositions) = 0;

    // Physical row of position pos in seq.
    int64_t row(int seq, int pos) const {
        const int ps = pageSize();
        return int64_t(pageTable(seq)[pos / ps]) * ps + pos % ps;
    }
};

} // namespace moe
