// The token input of the analysis commands (logits, route): --tokens 1,2,3 (ids, checked against
// the vocabulary) or --prompt TEXT (encoded with BOS by the model's tokenizer).
#pragma once

#include "cli-args.h"
#include "moe/model.h"
#include "moe/status.h"

#include <cstdint>
#include <vector>

// Errors: neither or both given, a malformed list ("--tokens: '1,x': ..."), an id outside the
// vocabulary, --prompt on a model without a tokenizer, an empty result.
moe::Result<std::vector<int32_t>> readTokenInput(const CliArgs& args, const moe::Model& model,
                                                 bool allowPrompt);
