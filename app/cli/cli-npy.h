// .npy output (NumPy format 1.0): a float32 array written so numpy.load reads it as
// little-endian '<f4' of the given shape, C order. Used by `logits`; numpy is not needed to write.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

// The whole file image: magic, version 1.0, header dict padded to a 64-byte boundary, data.
std::string npyImage(std::span<const float> data, const std::vector<int64_t>& shape);

// Writes npyImage to path (through path.tmp, renamed on success). data.size() must equal the
// product of shape. Errors name the file.
moe::Status writeNpy(const std::string& path, std::span<const float> data,
                     const std::vector<int64_t>& shape);

// Reads a .npy integer array (int32 '<i4' or int64 '<i8', C order) as int32 values and its shape.
// Errors name the file and what is wrong (dtype, order, truncated data, values outside int32).
moe::Status readNpyInt32(const std::string& path, std::vector<int32_t>& values, std::vector<int64_t>& shape);
