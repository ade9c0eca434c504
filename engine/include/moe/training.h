// Fine-tuning: LoRA (any linear, routed experts included), expert-specialized fine-tuning (ESFT:
// train only the experts a task routes to) and full fine-tuning, on the CPU. A run is a
// TrainingConfig (JSON, saved with the run), a dataset (moe/dataset.h) and a model; it reports
// progress through a callback that can cancel, checkpoints every N steps (parameters, AdamW
// moments, step) and resumes from a checkpoint exactly: data order and dropout masks are functions
// of (seed, step), so a resumed run computes the losses the uninterrupted run computes.
//
// Run state machine (TrainingRun):
//
//   created --run()--> running --all steps--> finished
//      |                  |  \--callback false--> cancelled (a checkpoint of the last step kept)
//      |                  \----error----------> failed (Status returned; last checkpoint intact)
//      \--resume(dir)--> created (at the checkpoint's step)
#pragma once

#include "moe/dataset.h"
#include "moe/model.h"
#include "moe/status.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace moe {

enum class TrainingMethod { Lora, Esft, Full };
const char* trainingMethodName(TrainingMethod method);

struct TrainingConfig {
    TrainingMethod method = TrainingMethod::Lora;
    // Data (moe/dataset.h).
    std::string datasetPath;
    std::string validationPath;     // or validationFraction of the dataset
    std::string datasetFormat = "auto";
    double validationFraction = 0.0;
    int maxSeqLen = 512;
    bool assistantOnlyLoss = true;
    bool packing = true;
    int batchTokens = 2048;         // tokens per micro-batch
    int gradientAccumulation = 1;   // micro-batches per optimizer step
    // LoRA.
    int loraRank = 16;
    float loraAlpha = 32.0f;
    float loraDropout = 0.0f;
    bool rsLora = false;
    std::vector<std::string> targetModules = {"q_proj", "k_proj", "v_proj", "o_proj"};
    bool freezeRouter = false;      // full fine-tuning: leave the routers as they are
    // ESFT: experts kept per layer until their cumulative share of the routing reaches
    // esftThreshold, scored by "gate" (average routing weight) or "token" (share of tokens).
    std::string esftScore = "gate";
    double esftThreshold = 0.2;
    std::map<int, std::vector<int>> esftExperts; // chosen explicitly (empty: scored from the data)
    // Optimization (torch.optim.AdamW).
    double learningRate = 2e-4;
    double weightDecay = 0.0;
    double beta1 = 0.9, beta2 = 0.999, adamEps = 1e-8;
    double maxGradNorm = 1.0;        // <= 0: no clipping
    std::string schedule = "cosine"; // "constant", "linear", "cosine" (all after warmup)
    int warmupSteps = 0;
    int epochs = 1;
    int maxSteps = 0;                // > 0: stop after this many optimizer steps
    bool activationCheckpointing = false;
    uint64_t seed = 42;
    int threads = 0;                 // 0: all cores
    // Evaluation and checkpoints.
    int evalEvery = 0;               // steps; 0: at the end only (when there is validation data)
    int checkpointEvery = 0;         // steps; 0: only when cancelled and at the end
    std::string outputDir;           // checkpoints/, adapter/ (or weights/) and config.json go here
};

// Parses a config file's JSON; errors name origin, the field and what was expected. Unknown
// fields are errors (a typo must not silently train something else).
Result<TrainingConfig> parseTrainingConfig(const std::string& json, const std::string& origin);
std::string trainingConfigJson(const TrainingConfig& config);

struct TrainingProgress {
    int step = 0;           // optimizer steps done
    int totalSteps = 0;
    int epoch = 0;
    double loss = 0;        // mean loss of this step's counted tokens
    double evalLoss = -1;   // the latest validation loss (-1: none yet)
    double learningRate = 0;
    double gradNorm = 0;    // before clipping
    double tokensPerSecond = 0; // counted (trained) tokens of the run so far / wall time
    double etaSeconds = 0;
    int64_t tokensSeen = 0;
    bool evaluated = false; // evalLoss was computed at this step
};

class TrainingRun {
public:
    // Loads the dataset with the model's tokenizer and chat template, scores experts (ESFT),
    // binds the trained parameters. Errors: a malformed dataset line (file:line), a config the
    // model cannot take (no MoE layers for ESFT, LoRA targets matching nothing).
    static Result<std::unique_ptr<TrainingRun>> create(std::shared_ptr<const Model> model,
                                                       const TrainingConfig& config);
    ~TrainingRun();

    const TrainingConfig& config() const;
    int64_t trainableParameters() const;
    int totalSteps() const;
    int step() const; // optimizer steps done
    const DatasetStats& trainStats() const;
    const DatasetStats& validationStats() const;
    // ESFT: the experts trained, per layer (empty for other methods).
    const std::map<int, std::vector<int>>& esftExperts() const;
    // A one-paragraph summary: method, trainable parameters (and share of the model), data, steps.
    std::string summary() const;

    // Runs the remaining steps. progress is called after every step; returning false stops the
    // run with Status Cancelled after writing a checkpoint (when outputDir is set).
    Status run(const std::function<bool(const TrainingProgress&)>& progress);
    // Mean loss over the validation set (or over the training set when there is none).
    Result<double> evaluate(bool validation = true);
    // Restores a checkpoint written by this config's run (parameters, optimizer moments, step).
    Status resume(const std::string& checkpointDir);
    Status saveCheckpoint(const std::string& dir) const;
    // Saves the result: LoRA as a PEFT adapter (adapter_config.json + adapter_model.safetensors);
    // ESFT and full fine-tuning as safetensors of the trained tensors under their HF names plus
    // esft_experts.json (ESFT).
    Status saveResult(const std::string& dir) const;

    struct Impl;

private:
    explicit TrainingRun(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Loss and adapter gradients of one batch for a PEFT adapter (the `grads` CLI, parity tests):
// tokens/labels [batch, seq] (labels -100 ignored, shifted inside as transformers does); the
// loss is the mean over counted positions. gradients: tensor name as in the adapter file ->
// values.
struct AdapterGradients {
    double loss = 0;
    int64_t counted = 0;
    std::map<std::string, std::vector<float>> gradients;
    std::map<std::string, std::vector<int64_t>> shapes;
};
Result<AdapterGradients> adapterGradients(std::shared_ptr<const Model> model, const std::string& adapterDir,
                                          const std::vector<int32_t>& tokens,
                                          const std::vector<int32_t>& labels, int batch, int seqLen);

} // namespace moe

namespace moe {
// Writes gradients as float32 safetensors under their adapter names, with the loss and counted
// positions in the header's metadata ("loss", "counted"); atomically.
Status saveAdapterGradients(const AdapterGradients& grads, const std::string& path);
} // namespace moe

namespace moe {
// Merges a fine-tuning result into a GGUF base and writes a new GGUF (atomically), every
// metadata key copied: a PEFT LoRA adapter folder (W += scaling · B · A) or a safetensors of
// trained tensors under Hugging Face names (ESFT / full fine-tuning results: the tensors are
// replaced). Names map to the GGUF's (experts into their stacked tensors, DeepSeek's kv_b into
// attn_k_b / attn_v_b, llama q/k rows into GGUF's rope order). Merged tensors are written in
// their stored type (re-quantized when quantized) unless type names another ("f32", "f16",
// "bf16", "q8_0", ...); untouched tensors are copied byte for byte. Errors name the file and the
// tensor (a name with no tensor in the base, a shape that differs).
struct MergeReport {
    int mergedTensors = 0;
    std::vector<std::string> merged; // GGUF tensor names changed
};
Result<MergeReport> mergeIntoGguf(const std::string& basePath, const std::string& resultPath,
                                  const std::string& outPath, const std::string& type = {});
} // namespace moe
