// Recording CLI work in a project: the model (by path and fingerprint) and sampling parameters
// as the JSON the store keeps with every message and run.
#pragma once

#include "moe-projects/project-store.h"
#include "moe/model.h"
#include "moe/sampling.h"

#include <string>

// Adds (or finds) the model in the store; returns its id.
moe::Result<int64_t> recordModel(moe::projects::ProjectStore& store, const moe::Model& model);

// {"temperature":..,"top_k":..,"top_p":..,"max_tokens":..,"seed":..}
std::string samplingJson(const moe::SamplingParams& p);
