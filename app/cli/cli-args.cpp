// CliArgs implementation.
#include "cli-args.h"

#include <cerrno>
#include <cstdlib>

bool CliArgs::parse(int argc, char** argv, const std::set<std::string>& valued,
                    const std::set<std::string>& flags) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
            std::string name = a.substr(2), val;
            bool inlineValue = false;
            if (auto eq = name.find('='); eq != std::string::npos) {
                val = name.substr(eq + 1);
                name = name.substr(0, eq);
                inlineValue = true;
            }
            if (flags.count(name)) {
                if (inlineValue) {
                    m_error = "option --" + name + " takes no value";
                    return false;
                }
                m_flags.insert(name);
            } else if (valued.count(name)) {
                if (!inlineValue) {
                    if (i + 1 >= argc) {
                        m_error = "option --" + name + " needs a value";
                        return false;
                    }
                    val = argv[++i];
                }
                m_values[name] = val;
            } else {
                m_error = "unknown option --" + name;
                return false;
            }
        } else {
            m_positional.push_back(a);
        }
    }
    return true;
}

bool CliArgs::has(const std::string& name) const { return m_flags.count(name) || m_values.count(name); }

std::optional<std::string> CliArgs::value(const std::string& name) const {
    auto it = m_values.find(name);
    if (it == m_values.end()) return std::nullopt;
    return it->second;
}

std::string CliArgs::value(const std::string& name, const std::string& fallback) const {
    return value(name).value_or(fallback);
}

bool CliArgs::intValue(const std::string& name, long long lo, long long hi, long long& out) {
    auto v = value(name);
    if (!v) return true;
    errno = 0;
    char* end = nullptr;
    long long x = std::strtoll(v->c_str(), &end, 10);
    if (errno || end == v->c_str() || *end || x < lo || x > hi) {
        m_error = "--" + name + " " + *v + ": expected an integer in [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]";
        return false;
    }
    out = x;
    return true;
}

bool CliArgs::floatValue(const std::string& name, double lo, double hi, double& out) {
    auto v = value(name);
    if (!v) return true;
    errno = 0;
    char* end = nullptr;
    double x = std::strtod(v->c_str(), &end);
    if (errno || end == v->c_str() || *end || !(x >= lo && x <= hi)) {
        m_error = "--" + name + " " + *v + ": expected a number in [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]";
        return false;
    }
    out = x;
    return true;
}
