// Token input of the analysis commands (cli-token-input.h).
#include "cli-token-input.h"

#include <cerrno>
#include <cstdlib>

moe::Result<std::vector<int32_t>> readTokenInput(const CliArgs& args, const moe::Model& model,
                                                 bool allowPrompt) {
    using moe::Status;
    using moe::StatusCode;
    const auto list = args.value("tokens");
    const auto prompt = allowPrompt ? args.value("prompt") : std::nullopt;
    if (bool(list) == bool(prompt))
        return Status(StatusCode::InvalidArgument,
                      allowPrompt ? "give either --tokens 1,2,3 or --prompt TEXT"
                                  : "--tokens 1,2,3 is required");
    std::vector<int32_t> ids;
    if (prompt) {
        if (!model.hasTokenizer())
            return Status(StatusCode::InvalidArgument,
                          model.info().path +
                              ": the model has no tokenizer to read --prompt; give --tokens");
        ids = model.tokenizer().encode(*prompt, true);
    } else {
        size_t pos = 0;
        const std::string& s = *list;
        while (pos <= s.size()) {
            size_t end = s.find(',', pos);
            if (end == std::string::npos) end = s.size();
            const std::string item = s.substr(pos, end - pos);
            errno = 0;
            char* e = nullptr;
            const long long v = std::strtoll(item.c_str(), &e, 10);
            if (item.empty() || errno || *e)
                return Status(StatusCode::InvalidArgument,
                              "--tokens: '" + item + "' in '" + s + "' is not a token id");
            if (v < 0 || v >= model.spec().nVocab)
                return Status(StatusCode::InvalidArgument,
                              "--tokens: id " + item + " is outside the vocabulary (0.." +
                                  std::to_string(model.spec().nVocab - 1) + ")");
            ids.push_back(int32_t(v));
            pos = end + 1;
        }
    }
    if (ids.empty()) return Status(StatusCode::InvalidArgument, "no tokens to run");
    return ids;
}
