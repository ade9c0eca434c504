// CliArgs: "--name value", "--name=value", boolean flags and positionals, checked against the
// options a command declares, so a typo is an error rather than silently ignored.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

class CliArgs {
public:
    // valued: options that take a value; flags: options that do not. Returns false and sets
    // error() on an unknown option or a missing value.
    bool parse(int argc, char** argv, const std::set<std::string>& valued,
               const std::set<std::string>& flags);
    const std::string& error() const { return m_error; }

    const std::vector<std::string>& positional() const { return m_positional; }
    bool has(const std::string& name) const;
    std::optional<std::string> value(const std::string& name) const;
    std::string value(const std::string& name, const std::string& fallback) const;
    // Numeric values; false with error() set when present but not a number in range.
    bool intValue(const std::string& name, long long lo, long long hi, long long& out);
    bool floatValue(const std::string& name, double lo, double hi, double& out);

private:
    std::vector<std::string> m_positional;
    std::map<std::string, std::string> m_values;
    std::set<std::string> m_flags;
    std::string m_error;
};
