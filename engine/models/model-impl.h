// ModelImpl: what Model hides — the mapped GGUF file, the normalized ModelSpec and ModelInfo,
// the tokenizer, and the family's weight views into the mapping.
#pragma once

#include "formats/gguf/gguf-reader.h"
#include "models/gqa-moe.h"
#include "moe/model.h"

#include <memory>

namespace moe {

class ModelImpl {
public:
    static Result<std::unique_ptr<ModelImpl>> load(const std::string& path);

    gguf::GgufFile file;
    ModelInfo info;
    std::unique_ptr<Tokenizer> tokenizer;
    GqaMoeWeights weights;
};

} // namespace moe
