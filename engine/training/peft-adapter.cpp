// PEFT adapter reading and writing; see peft-adapter.h.
#include "training/peft-adapter.h"

#include "formats/safetensors/safetensors-file.h"
#include "formats/safetensors/safetensors-writer.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace moe::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status writeText(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) return Status(StatusCode::IoError, tmp + ": cannot write (disk full?)");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec)
        return Status(StatusCode::IoError, path + ": cannot rename into place: " + ec.message());
    return Status::ok();
}

} // namespace

Status writeF32Tensors(const std::string& path,
                       const std::vector<std::pair<std::string, const Param*>>& tensors,
                       const std::vector<const std::vector<float>*>& values) {
    st::SafetensorsWriter w;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const Param* p = tensors[i].second;
        const std::vector<float>* v = values.empty() ? &p->value : values[i];
        MOE_TRY(
            w.addTensor(tensors[i].first, st::Dtype::F32, p->shape, [v](std::span<uint8_t> out) {
                std::memcpy(out.data(), v->data(), out.size());
                return Status::ok();
            }));
    }
    return w.write(path);
}

Result<PeftAdapter> loadPeftAdapter(const std::string& dir) {
    const std::string cfgPath = dir + "/adapter_config.json";
    std::ifstream in(cfgPath);
    if (!in)
        return Status(StatusCode::NotFound,
                      cfgPath + ": cannot open (is " + dir + " a PEFT adapter folder?)");
    std::stringstream ss;
    ss << in.rdbuf();
    json j;
    try {
        j = json::parse(ss.str());
    } catch (const json::parse_error& e) {
        return Status(StatusCode::CorruptFile, cfgPath + ": not valid JSON: " + e.what());
    }
    PeftAdapter a;
    try {
        const std::string type = j.value("peft_type", "");
        if (type != "LORA")
            return Status(StatusCode::Unsupported,
                          cfgPath + ": peft_type '" + type + "' (only LORA adapters load)");
        a.targets.loraRank = j.at("r").get<int>();
        a.targets.loraAlpha = j.value("lora_alpha", float(a.targets.loraRank));
        a.targets.loraDropout = j.contains("lora_dropout") && j["lora_dropout"].is_number()
                                    ? j["lora_dropout"].get<float>()
                                    : 0.0f;
        a.targets.rsLora = j.value("use_rslora", false);
        if (j.value("use_dora", false))
            return Status(StatusCode::Unsupported,
                          cfgPath + ": DoRA adapters (use_dora) do not load");
        for (const char* k : {"rank_pattern", "alpha_pattern"})
            if (j.contains(k) && j[k].is_object() && !j[k].empty())
                return Status(StatusCode::Unsupported,
                              cfgPath + ": per-module '" + std::string(k) + "' is not supported");
    } catch (const json::exception& e) {
        return Status(StatusCode::CorruptFile, cfgPath + ": " + e.what());
    }
    const std::string wPath = dir + "/adapter_model.safetensors";
    MOE_ASSIGN_OR_RETURN(st::SafetensorsFile f, st::SafetensorsFile::open(wPath));
    std::set<std::string> modules;
    for (const st::Tensor& t : f.tensors()) {
        std::string name = t.name;
        if (name.rfind(kPeftPrefix, 0) == 0) name = name.substr(std::strlen(kPeftPrefix));
        std::string module;
        if (endsWith(name, ".lora_A.weight"))
            module = name.substr(0, name.size() - 14);
        else if (endsWith(name, ".lora_B.weight"))
            module = name.substr(0, name.size() - 14);
        else
            return Status(StatusCode::Unsupported,
                          wPath + ": tensor '" + t.name + "' is not a LoRA A/B weight");
        modules.insert(module);
        std::vector<float> v;
        MOE_TRY(st::toF32(t, wPath, v));
        a.shapes[name] = t.shape;
        a.tensors[name] = std::move(v);
    }
    if (modules.empty()) return Status(StatusCode::CorruptFile, wPath + ": holds no LoRA tensors");
    a.targets.loraModules.assign(modules.begin(), modules.end());
    return a;
}

void reorderRopeRows(const ModelSpec& spec, const std::string& name, std::vector<float>& values, bool toHf) {
    if (spec.family == "deepseek" || !spec.ropeInterleaved || spec.headDim <= 0) return;
    const bool q = name.find("self_attn.q_proj.") != std::string::npos;
    const bool k = name.find("self_attn.k_proj.") != std::string::npos;
    if (!(q || k) || endsWith(name, ".lora_A.weight") || endsWith(name, ".bias")) return;
    const int64_t d = spec.headDim, rows = int64_t(q ? spec.nHead : spec.nHeadKv) * d;
    if (rows <= 0 || int64_t(values.size()) % rows != 0) return;
    const int64_t cols = int64_t(values.size()) / rows;
    // GGUF unit u of a head is Hugging Face unit (u even ? u / 2 : d / 2 + u / 2) (convert-hf.cpp).
    std::vector<float> out(values.size());
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t head = r / d, u = r % d;
        const int64_t hf = head * d + (u % 2 == 0 ? u / 2 : d / 2 + u / 2);
        const int64_t from = toHf ? r : hf, to = toHf ? hf : r;
        std::copy_n(values.data() + from * cols, cols, out.data() + to * cols);
    }
    values.swap(out);
}

Status applyPeftAdapter(TrainModel& model, const PeftAdapter& adapter, const std::string& dir) {
    size_t used = 0;
    for (Param* p : model.params()) {
        auto it = adapter.tensors.find(p->name);
        if (it == adapter.tensors.end())
            return Status(StatusCode::CorruptFile,
                          dir + ": the adapter has no tensor for '" + p->name + "'");
        if (adapter.shapes.at(p->name) != p->shape)
            return Status(StatusCode::CorruptFile,
                          dir + ": tensor '" + p->name + "' has the wrong shape for this model");
        p->value = it->second;
        reorderRopeRows(model.spec(), p->name, p->value, false);
        ++used;
    }
    if (used != adapter.tensors.size())
        return Status(StatusCode::CorruptFile, dir + ": " +
                                                   std::to_string(adapter.tensors.size() - used) +
                                                   " adapter tensors match no module of the model");
    return Status::ok();
}

Status savePeftAdapter(const std::string& dir, const ModelSpec& spec, const TrainTargets& t,
                       const std::vector<Param*>& params, const std::string& baseModel) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status(StatusCode::IoError, dir + ": cannot create: " + ec.message());
    std::vector<std::pair<std::string, const Param*>> tensors;
    std::deque<std::vector<float>> reordered;
    std::vector<const std::vector<float>*> values;
    for (const Param* p : params)
        if (endsWith(p->name, ".lora_A.weight") || endsWith(p->name, ".lora_B.weight")) {
            tensors.emplace_back(kPeftPrefix + p->name, p);
            reordered.push_back(p->value);
            reorderRopeRows(spec, p->name, reordered.back(), true);
            values.push_back(&reordered.back());
        }
    MOE_TRY(writeF32Tensors(dir + "/adapter_model.safetensors", tensors, values));
    json j;
    j["peft_type"] = "LORA";
    j["task_type"] = "CAUSAL_LM";
    j["base_model_name_or_path"] = baseModel;
    j["r"] = t.loraRank;
    j["lora_alpha"] = t.loraAlpha;
    j["lora_dropout"] = t.loraDropout;
    j["use_rslora"] = t.rsLora;
    j["target_modules"] = t.loraModules.size() == 1 && t.loraModules[0] == "all-linear"
                              ? json("all-linear")
                              : json(t.loraModules);
    j["bias"] = "none";
    j["fan_in_fan_out"] = false;
    j["init_lora_weights"] = true;
    j["inference_mode"] = true;
    j["modules_to_save"] = nullptr;
    j["rank_pattern"] = json::object();
    j["alpha_pattern"] = json::object();
    j["use_dora"] = false;
    return writeText(dir + "/adapter_config.json", j.dump(2));
}

} // namespace moe::train
