// TrainingRun's state, shared by trainer.cpp (the loop), trainer-state.cpp (checkpoints, results)
// and esft-select.cpp (expert scoring).
#pragma once

#include "core/thread-pool.h"
#include "models/train-model.h"
#include "moe/training.h"

#include <memory>
#include <vector>

namespace moe {

struct TrainingRun::Impl {
    TrainingConfig config;
    std::shared_ptr<const Model> model;
    std::unique_ptr<ThreadPool> pool;
    train::TrainTargets targets;
    std::unique_ptr<train::TrainModel> tm;
    TokenizedDataset data;
    std::vector<std::vector<float>> m1, m2; // AdamW moments per Param
    int stepsPerEpoch = 0;
    int totalSteps = 0;
    int step = 0;
    double lastEvalLoss = -1;

    // The micro-batches (example indices) of optimizer step s: a pure function of (seed, s).
    std::vector<std::vector<int>> microBatches(int s) const;
    double learningRate(int s) const;
    Result<double> meanLoss(const std::vector<TrainingExample>& examples);
};

// ESFT: the experts per layer whose cumulative routing share reaches config.esftThreshold on the
// training examples, scored as config.esftScore says.
Result<std::map<int, std::vector<int>>>
selectEsftExperts(std::shared_ptr<const Model> model, const std::vector<TrainingExample>& examples,
                  const TrainingConfig& config);

} // namespace moe
