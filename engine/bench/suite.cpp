// Benchmark suite files (moe/bench-suite.h): JSON parsed with nlohmann/json, then every field
// checked by hand so a mistake is reported as "suite.json: quality[1].stride: expected an integer
// between 1 and the context (256), got 300" rather than a type error; unknown fields are errors
// too (a typo must not silently fall back to a default). Data files are resolved against the
// suite's folder and must exist when the suite is loaded, not an hour into the run.
#include "moe/bench-suite.h"

#include "bench/eval-common.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace moe {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

class Fields {
public:
    Fields(const std::string& file, const std::string& dir) : m_file(file), m_dir(dir) {}

    Status error(const std::string& field, const std::string& problem) const {
        return Status(StatusCode::InvalidArgument, m_file + ": " + field + ": " + problem);
    }
    static std::string got(const json& v) {
        std::string s = v.dump();
        return s.size() > 60 ? s.substr(0, 57) + "..." : s;
    }
    Status onlyKeys(const json& obj, const std::string& where,
                    const std::set<std::string>& allowed) const {
        for (auto it = obj.begin(); it != obj.end(); ++it)
            if (!allowed.count(it.key())) {
                std::string list;
                for (const std::string& k : allowed)
                    list += (list.empty() ? "" : ", ") + k;
                return error(where.empty() ? it.key() : where + "." + it.key(),
                             "unknown field (expected one of " + list + ")");
            }
        return Status::ok();
    }
    Status integer(const json& obj, const std::string& where, const std::string& key, long long lo,
                   long long hi, int& out, const std::string& range = {}) const {
        if (!obj.contains(key)) return Status::ok();
        const json& v = obj[key];
        if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
            return error(where + key, "expected an integer " +
                                          (range.empty() ? ">= " + std::to_string(lo) : range) +
                                          ", got " + got(v));
        out = int(v.get<long long>());
        return Status::ok();
    }
    Status intList(const json& obj, const std::string& where, const std::string& key, long long lo,
                   std::vector<int>& out) const {
        if (!obj.contains(key)) return Status::ok();
        const json& v = obj[key];
        if (!v.is_array() || v.empty())
            return error(where + key, "expected a non-empty array of integers, got " + got(v));
        out.clear();
        for (size_t i = 0; i < v.size(); ++i) {
            if (!v[i].is_number_integer() || v[i].get<long long>() < lo ||
                v[i].get<long long>() > (1 << 22))
                return error(where + key + "[" + std::to_string(i) + "]",
                             "expected an integer >= " + std::to_string(lo) + ", got " + got(v[i]));
            out.push_back(int(v[i].get<long long>()));
        }
        return Status::ok();
    }
    Status string(const json& obj, const std::string& where, const std::string& key,
                  std::string& out, bool required, bool allowEmpty = false) const {
        if (!obj.contains(key))
            return required ? error(where + key, "missing (a string is required)") : Status::ok();
        const json& v = obj[key];
        if (!v.is_string() || (!allowEmpty && v.get<std::string>().empty()))
            return error(where + key, "expected a non-empty string, got " + got(v));
        out = v.get<std::string>();
        return Status::ok();
    }
    // A data file: resolved against the suite's folder, and it must be a readable file.
    Status dataFile(const std::string& field, const std::string& value, std::string& out) const {
        fs::path p(value);
        if (p.is_relative()) p = fs::path(m_dir) / p;
        std::error_code ec;
        if (!fs::is_regular_file(p, ec))
            return error(field,
                         "\"" + value + "\": no such file (" + p.lexically_normal().string() + ")");
        out = p.lexically_normal().string();
        return Status::ok();
    }
    const std::string& dir() const { return m_dir; }

private:
    std::string m_file, m_dir;
};

Status parseSpeed(const Fields& f, const json& s, SpeedSuite& out) {
    if (!s.is_object()) return f.error("speed", "expected an object, got " + Fields::got(s));
    MOE_TRY(f.onlyKeys(
        s, "speed",
        {"prompt_tokens", "gen_tokens", "batch", "depth", "repetitions", "warmup", "seed"}));
    MOE_TRY(f.intList(s, "speed.", "prompt_tokens", 1, out.promptTokens));
    MOE_TRY(f.intList(s, "speed.", "gen_tokens", 1, out.genTokens));
    MOE_TRY(f.intList(s, "speed.", "batch", 1, out.batch));
    MOE_TRY(f.intList(s, "speed.", "depth", 0, out.depths));
    MOE_TRY(f.integer(s, "speed.", "repetitions", 1, 1000, out.repetitions, "between 1 and 1000"));
    MOE_TRY(f.integer(s, "speed.", "warmup", 0, 100, out.warmup, "between 0 and 100"));
    int seed = int(out.seed);
    MOE_TRY(f.integer(s, "speed.", "seed", 0, 0x7fffffff, seed));
    out.seed = uint64_t(seed);
    return Status::ok();
}

Status parseWindow(const Fields& f, const json& e, const std::string& at, PerplexityConfig& w) {
    if (e.contains("context")) {
        MOE_TRY(f.integer(e, at, "context", 2, 1 << 22, w.context));
        w.stride = 0; // the context, unless "stride" says otherwise
    }
    MOE_TRY(f.integer(e, at, "stride", 1, w.context, w.stride,
                      "between 1 and the context (" + std::to_string(w.context) + ")"));
    return Status::ok();
}

Status parseEntry(const Fields& f, const json& e, size_t index, QualityEval& q,
                  const BenchSuite& suite) {
    const std::string where = "quality[" + std::to_string(index) + "]", at = where + ".";
    if (!e.is_object()) return f.error(where, "expected an object, got " + Fields::got(e));
    MOE_TRY(f.string(e, at, "type", q.type, true));
    static const std::map<std::string, std::set<std::string>> kKeys = {
        {"perplexity", {"type", "name", "file", "context", "stride"}},
        {"kl", {"type", "name", "file", "context", "stride", "reference"}},
        {"choice", {"type", "name", "file", "delimiter", "limit"}},
        {"generation", {"type", "name", "file", "scoring", "max_tokens", "chat", "until", "limit"}},
        {"routing", {"type", "name", "file", "domains", "context"}}};
    const auto keys = kKeys.find(q.type);
    if (keys == kKeys.end())
        return f.error(at + "type",
                       "\"" + q.type +
                           "\" is not one of perplexity, kl, choice, generation, routing");
    MOE_TRY(f.onlyKeys(e, where, keys->second));
    MOE_TRY(f.string(e, at, "name", q.name, false));
    std::string file;
    MOE_TRY(f.string(e, at, "file", file,
                     q.type == "perplexity" || q.type == "choice" || q.type == "generation"));
    if (!file.empty()) MOE_TRY(f.dataFile(at + "file", file, q.file));

    if (q.type == "perplexity" || q.type == "kl") {
        if (q.type == "kl" && file.empty()) {
            // "on the same text": the first perplexity entry's file and windows.
            for (const QualityEval& p : suite.quality)
                if (p.type == "perplexity") {
                    q.file = p.file;
                    q.window = p.window;
                    break;
                }
            if (q.file.empty())
                return f.error(at + "file",
                               "missing (kl needs a text file, or a perplexity entry before it)");
        }
        MOE_TRY(parseWindow(f, e, at, q.window));
        if (q.type == "kl") MOE_TRY(f.string(e, at, "reference", q.reference, false));
        if (q.type == "kl" && q.reference != "base") {
            std::filesystem::path p(q.reference);
            if (p.is_relative()) p = std::filesystem::path(f.dir()) / p;
            q.reference = p.lexically_normal().string();
        }
    } else if (q.type == "choice") {
        MOE_TRY(f.string(e, at, "delimiter", q.choice.delimiter, false, true));
        MOE_TRY(f.integer(e, at, "limit", 0, 1 << 30, q.choice.limit));
    } else if (q.type == "generation") {
        MOE_TRY(f.string(e, at, "scoring", q.generation.scoring, false));
        if (!scoreGeneration(q.generation.scoring, "", "").isOk())
            return f.error(at + "scoring", "\"" + q.generation.scoring +
                                               "\" is not one of exact_match, contains, regex");
        MOE_TRY(f.integer(e, at, "max_tokens", 1, 1 << 20, q.generation.maxTokens));
        MOE_TRY(f.integer(e, at, "limit", 0, 1 << 30, q.generation.limit));
        if (e.contains("chat")) {
            if (!e["chat"].is_boolean())
                return f.error(at + "chat",
                               "expected true or false, got " + Fields::got(e["chat"]));
            q.generation.chat = e["chat"].get<bool>();
        }
        if (e.contains("until")) {
            const json& u = e["until"];
            if (u.is_string()) {
                q.generation.until = {u.get<std::string>()};
            } else if (u.is_array() && std::all_of(u.begin(), u.end(),
                                                   [](const json& x) { return x.is_string(); })) {
                for (const json& x : u)
                    q.generation.until.push_back(x.get<std::string>());
            } else {
                return f.error(at + "until",
                               "expected a string or an array of strings, got " + Fields::got(u));
            }
        }
    } else { // routing
        MOE_TRY(f.integer(e, at, "context", 1, 1 << 22, q.routing.context));
        if (e.contains("domains")) {
            const json& d = e["domains"];
            if (!d.is_object() || d.empty())
                return f.error(at + "domains",
                               "expected an object of name -> text file, got " + Fields::got(d));
            for (auto it = d.begin(); it != d.end(); ++it) {
                if (!it.value().is_string())
                    return f.error(at + "domains." + it.key(),
                                   "expected a file name, got " + Fields::got(it.value()));
                RoutingDomain dom{.name = it.key(), .file = {}};
                MOE_TRY(f.dataFile(at + "domains." + it.key(), it.value().get<std::string>(),
                                   dom.file));
                q.domains.push_back(std::move(dom));
            }
        }
        if (!q.file.empty())
            q.domains.insert(q.domains.begin(), {.name = evals::baseName(file), .file = q.file});
        if (q.domains.empty())
            return f.error(at + "domains", "missing (routing needs \"domains\" or a \"file\")");
        q.file.clear();
    }
    if (q.name.empty())
        q.name = q.type == "routing" ? "routing" : q.type + ":" + evals::baseName(q.file);
    return Status::ok();
}

} // namespace

Result<BenchSuite> parseBenchSuite(const std::string& text, const std::string& path) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        // Byte offset -> line:column for the message.
        size_t line = 1, col = 1;
        for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
            if (text[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        return Status(StatusCode::InvalidArgument, path + ":" + std::to_string(line) + ":" +
                                                       std::to_string(col) + ": not valid JSON (" +
                                                       e.what() + ")");
    }
    std::error_code ec;
    const std::string dir = fs::absolute(fs::path(path), ec).parent_path().string();
    Fields f(path, dir);
    if (!root.is_object())
        return f.error("(top level)", "expected an object, got " + Fields::got(root));
    MOE_TRY(f.onlyKeys(root, "", {"name", "description", "speed", "quality"}));
    BenchSuite suite;
    suite.path = path;
    suite.json = root.dump();
    MOE_TRY(f.string(root, "", "name", suite.name, false));
    if (suite.name.empty()) suite.name = fs::path(path).stem().string();
    if (root.contains("speed")) {
        suite.hasSpeed = true;
        MOE_TRY(parseSpeed(f, root["speed"], suite.speed));
    }
    if (root.contains("quality")) {
        const json& q = root["quality"];
        if (!q.is_array())
            return f.error("quality", "expected an array of evals, got " + Fields::got(q));
        for (size_t i = 0; i < q.size(); ++i) {
            QualityEval e;
            MOE_TRY(parseEntry(f, q[i], i, e, suite));
            suite.quality.push_back(std::move(e));
        }
    }
    if (!suite.hasSpeed && suite.quality.empty())
        return f.error("(top level)", "nothing to run (no \"speed\" and no \"quality\" entries)");
    return suite;
}

Result<BenchSuite> loadBenchSuite(const std::string& path) {
    MOE_ASSIGN_OR_RETURN(std::string text, evals::readTextFile(path));
    return parseBenchSuite(text, path);
}

} // namespace moe
