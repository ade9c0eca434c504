// `moestudio-cli project ...`: create, list and check a project folder from the shell.
//     project init DIR [--name NAME]   create DIR/project.sqlite and the artifact folders
//     project list DIR                 models, chat sessions (with message counts) and runs
//     project check DIR                sqlite integrity and foreign-key check
//     project info DIR                 name, schema, counts of every entity
//     project runs DIR [--kind K]      run history (newest first) with metric summaries
//     project export DIR FILE          the whole project in one file (tar)
//     project import FILE DIR          unpack an export into a new folder and check it
// Reading commands open the project read-only (no lock), so they work while the studio has it.
// Output is aligned plain-text tables for people; errors go to stderr as "moestudio-cli: <msg>"
// with exit code 1, usage errors (followed by the usage text) with exit code 2, as commands.h
// asks of every command. Only the C++ library and the project store: no Qt.
#include "cli-output.h"
#include "commands.h"

#include "moe-projects/project-store.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using moe::projects::ProjectStore;

constexpr const char* kUsage = "usage: moestudio-cli project init DIR [--name NAME]\n"
                               "       moestudio-cli project list DIR\n"
                               "       moestudio-cli project check DIR\n"
                               "       moestudio-cli project info DIR\n"
                               "       moestudio-cli project runs DIR [--kind KIND]\n"
                               "       moestudio-cli project export DIR FILE\n"
                               "       moestudio-cli project import FILE DIR\n";

int fail(const moe::Status& status) { return cliFail(status.message()); }

int usageError(const std::string& message) {
    return cliUsage("moestudio-cli: " + message + "\n" + kUsage);
}

// Display width of UTF-8 text: code points, counting no continuation bytes.
size_t displayWidth(std::string_view text) {
    size_t width = 0;
    for (const unsigned char c : text)
        width += (c & 0xc0) != 0x80;
    return width;
}

// One line of text with no control characters, cut to maxWidth code points with an ellipsis.
std::string cell(std::string_view text, size_t maxWidth = 40) {
    std::string out;
    size_t width = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        const bool starts = (c & 0xc0) != 0x80;
        if (starts && width == maxWidth) {
            // Drop the last code point for the ellipsis.
            while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0) == 0x80)
                out.pop_back();
            if (!out.empty()) out.pop_back();
            return out + "\u2026";
        }
        if (starts) ++width;
        out.push_back(c < 0x20 ? ' ' : text[i]);
    }
    return out;
}

// A text table: left-aligned columns, those flagged numeric right-aligned, two spaces apart.
class Table {
public:
    explicit Table(std::vector<std::string> headers, std::vector<bool> numeric = {})
        : m_headers(std::move(headers)), m_numeric(std::move(numeric)) {
        m_numeric.resize(m_headers.size(), false);
    }

    void addRow(std::vector<std::string> row) {
        row.resize(m_headers.size());
        m_rows.push_back(std::move(row));
    }

    void print(std::ostream& out, const std::string& indent = "  ") const {
        if (m_rows.empty()) {
            out << indent << "(none)\n";
            return;
        }
        std::vector<size_t> widths(m_headers.size());
        for (size_t c = 0; c < m_headers.size(); ++c)
            widths[c] = displayWidth(m_headers[c]);
        for (const auto& row : m_rows)
            for (size_t c = 0; c < row.size(); ++c)
                widths[c] = std::max(widths[c], displayWidth(row[c]));
        printLine(out, indent, m_headers, widths);
        for (const auto& row : m_rows)
            printLine(out, indent, row, widths);
    }

private:
    void printLine(std::ostream& out, const std::string& indent,
                   const std::vector<std::string>& row, const std::vector<size_t>& widths) const {
        std::string line = indent;
        for (size_t c = 0; c < row.size(); ++c) {
            const std::string pad(widths[c] - displayWidth(row[c]), ' ');
            const bool last = c + 1 == row.size();
            if (m_numeric[c]) {
                line += pad + row[c];
            } else {
                line += row[c];
                if (!last) line += pad;
            }
            if (!last) line += "  ";
        }
        out << line << "\n";
    }

    std::vector<std::string> m_headers;
    std::vector<bool> m_numeric;
    std::vector<std::vector<std::string>> m_rows;
};

std::string formatScaled(double value, const char* const* units, int nUnits, double step) {
    int unit = 0;
    while (value >= step && unit + 1 < nUnits) {
        value /= step;
        ++unit;
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, unit == 0 ? "%.0f%s" : "%.1f%s", value, units[unit]);
    return buffer;
}

std::string formatBytes(int64_t bytes) {
    static constexpr const char* kUnits[] = {" B", " KiB", " MiB", " GiB", " TiB"};
    return formatScaled(static_cast<double>(bytes), kUnits, 5, 1024.0);
}

std::string formatCount(int64_t count) {
    if (count <= 0) return "-";
    static constexpr const char* kUnits[] = {"", "K", "M", "B", "T"};
    return formatScaled(static_cast<double>(count), kUnits, 5, 1000.0);
}

int initProject(int argc, char** argv) {
    std::string dir;
    std::string name;
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--name") {
            if (i + 1 >= argc) return usageError("project init: --name needs a value");
            name = argv[++i];
        } else if (arg.starts_with("--name=")) {
            name = std::string(arg.substr(7));
        } else if (arg.starts_with("-")) {
            return usageError("project init: unknown option '" + std::string(arg) + "'");
        } else if (dir.empty()) {
            dir = std::string(arg);
        } else {
            return usageError("project init: one folder expected, got '" + dir + "' and '" +
                              std::string(arg) + "'");
        }
    }
    if (dir.empty()) return usageError("project init: missing DIR");
    auto store = ProjectStore::create(dir, name);
    if (!store) return fail(store.status());
    const ProjectStore& project = **store;
    std::cout << "created project '" << project.name() << "' at " << project.dir() << "/"
              << ProjectStore::kDatabaseFile << " (schema version " << project.schemaVersion()
              << ")\n";
    return 0;
}

int listProject(ProjectStore& store) {
    auto models = store.models();
    if (!models) return fail(models.status());
    auto sessions = store.chatSessions();
    if (!sessions) return fail(sessions.status());
    auto runs = store.runs();
    if (!runs) return fail(runs.status());

    std::cout << "project '" << store.name() << "' at " << store.dir() << " (schema version "
              << store.schemaVersion() << ")\n\n";

    std::cout << "models (" << models->size() << ")\n";
    Table modelTable({"ID", "NAME", "FORMAT", "ARCH", "FAMILY", "SIZE", "PARAMS", "HASH", "PATH"},
                     {true, false, false, false, false, true, true, false, false});
    for (const auto& m : *models) {
        modelTable.addRow({std::to_string(m.id), cell(m.name), cell(m.format), cell(m.architecture),
                           cell(m.family), formatBytes(m.fileBytes), formatCount(m.parameterCount),
                           cell(m.contentHash, 16), cell(m.path, 200)});
    }
    modelTable.print(std::cout);

    std::cout << "\nchat sessions (" << sessions->size() << ")\n";
    Table sessionTable({"ID", "MODEL", "MESSAGES", "CREATED", "TITLE"},
                       {true, true, true, false, false});
    for (const auto& s : *sessions) {
        auto count = store.messageCount(s.id);
        if (!count) return fail(count.status());
        sessionTable.addRow({std::to_string(s.id), std::to_string(s.modelId),
                             std::to_string(*count), s.createdAt, cell(s.title, 60)});
    }
    sessionTable.print(std::cout);

    std::cout << "\nruns (" << runs->size() << ")\n";
    Table runTable({"ID", "KIND", "STATUS", "MODEL", "STARTED", "FINISHED"},
                   {true, false, false, true, false, false});
    for (const auto& r : *runs) {
        runTable.addRow({std::to_string(r.id), cell(r.kind), r.status,
                         r.modelId ? std::to_string(*r.modelId) : "-", r.startedAt,
                         r.finishedAt.empty() ? "-" : r.finishedAt});
    }
    runTable.print(std::cout);
    return 0;
}

int checkProject(ProjectStore& store) {
    if (const moe::Status status = store.checkIntegrity(); !status) return fail(status);
    auto models = store.models();
    if (!models) return fail(models.status());
    auto sessions = store.chatSessions();
    if (!sessions) return fail(sessions.status());
    int64_t messages = 0;
    for (const auto& s : *sessions) {
        auto count = store.messageCount(s.id);
        if (!count) return fail(count.status());
        messages += *count;
    }
    auto runs = store.runs();
    if (!runs) return fail(runs.status());
    std::cout << "ok: " << store.dir() << "/" << ProjectStore::kDatabaseFile << " (schema version "
              << store.schemaVersion() << "; " << models->size() << " models, " << sessions->size()
              << " chat sessions, " << messages << " messages, " << runs->size() << " runs)\n";
    return 0;
}

// Read-only when the schema is current (no lock needed); read-write (migrating) otherwise.
moe::Result<std::unique_ptr<ProjectStore>> openForReading(const std::string& dir) {
    auto store = ProjectStore::open(dir, ProjectStore::OpenMode::ReadOnly);
    if (!store && store.status().code() == moe::StatusCode::Unsupported &&
        store.status().message().find("older") != std::string::npos) {
        return ProjectStore::open(dir);
    }
    return store;
}

std::string optionalNumber(const std::optional<double>& v) {
    if (!v) return "-";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g", *v);
    return buffer;
}

int infoProject(ProjectStore& store) {
    auto models = store.models();
    auto datasets = store.datasets().list();
    auto sessions = store.chatSessions();
    auto comparisons = store.comparisons().list();
    auto runs = store.trainingRuns().history({.kind = {}, .status = {}, .limit = 1 << 30,
                                              .offset = 0});
    auto evals = store.evals().list();
    auto reports = store.reports().list();
    if (!models) return fail(models.status());
    if (!datasets) return fail(datasets.status());
    if (!sessions) return fail(sessions.status());
    if (!comparisons) return fail(comparisons.status());
    if (!runs) return fail(runs.status());
    if (!evals) return fail(evals.status());
    if (!reports) return fail(reports.status());
    int64_t versions = 0;
    for (const auto& m : *models) {
        auto v = store.modelVersions().versions(m.id);
        if (!v) return fail(v.status());
        versions += static_cast<int64_t>(v->size());
    }
    int64_t running = 0;
    for (const auto& r : *runs)
        running += r.status == "running";
    std::cout << "project '" << store.name() << "'\n"
              << "  folder          " << store.dir() << "\n"
              << "  database        " << store.dir() << "/" << ProjectStore::kDatabaseFile << "\n"
              << "  schema version  " << store.schemaVersion() << "\n"
              << "  models          " << models->size() << " (" << versions << " versions)\n"
              << "  datasets        " << datasets->size() << "\n"
              << "  chat sessions   " << sessions->size() << "\n"
              << "  comparisons     " << comparisons->size() << "\n"
              << "  runs            " << runs->size() << " (" << running << " running)\n"
              << "  eval results    " << evals->size() << "\n"
              << "  reports         " << reports->size() << "\n";
    return 0;
}

int runsProject(ProjectStore& store, const std::optional<std::string>& kind) {
    auto runs = store.trainingRuns().history({.kind = kind, .status = {}, .limit = 1000,
                                              .offset = 0});
    if (!runs) return fail(runs.status());
    Table table({"ID", "KIND", "STATUS", "MODEL", "STEPS", "LAST LOSS", "BEST EVAL", "STARTED",
                 "FINISHED"},
                {true, false, false, true, true, true, true, false, false});
    for (const auto& r : *runs) {
        table.addRow({std::to_string(r.id), cell(r.kind), r.status,
                      r.modelId ? std::to_string(*r.modelId) : "-",
                      r.lastStep >= 0 ? std::to_string(r.lastStep) : "-",
                      optionalNumber(r.lastLoss), optionalNumber(r.bestEvalLoss), r.startedAt,
                      r.finishedAt.empty() ? "-" : r.finishedAt});
    }
    std::cout << "runs (" << runs->size() << ")\n";
    table.print(std::cout);
    return 0;
}

} // namespace

int cmdProject(int argc, char** argv) {
    if (argc < 2) return usageError("project: missing subcommand");
    const std::string_view sub = argv[1];
    if (sub == "--help" || sub == "-h" || sub == "help") {
        std::cout << kUsage;
        return 0;
    }
    if (sub == "init") return initProject(argc, argv);
    if (sub == "export" || sub == "import") {
        if (argc != 4) {
            return usageError("project " + std::string(sub) +
                              (sub == "export" ? ": expected DIR FILE" : ": expected FILE DIR"));
        }
        if (sub == "import") {
            auto store = ProjectStore::importFrom(argv[2], argv[3]);
            if (!store) return fail(store.status());
            std::cout << "imported project '" << (*store)->name() << "' into " << (*store)->dir()
                      << " (schema version " << (*store)->schemaVersion() << ")\n";
            return 0;
        }
        auto store = openForReading(argv[2]);
        if (!store) return fail(store.status());
        if (const moe::Status s = (*store)->exportTo(argv[3]); !s) return fail(s);
        std::cout << "exported project '" << (*store)->name() << "' to " << argv[3] << "\n";
        return 0;
    }
    if (sub == "runs") {
        std::optional<std::string> kind;
        std::string dir;
        for (int i = 2; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "--kind" && i + 1 < argc) kind = argv[++i];
            else if (arg.starts_with("-")) {
                return usageError("project runs: unknown option '" + std::string(arg) + "'");
            } else if (dir.empty()) dir = std::string(arg);
            else return usageError("project runs: one folder expected");
        }
        if (dir.empty()) return usageError("project runs: missing DIR");
        auto store = openForReading(dir);
        if (!store) return fail(store.status());
        return runsProject(**store, kind);
    }
    if (sub != "list" && sub != "check" && sub != "info") {
        return usageError("project: unknown subcommand '" + std::string(sub) + "'");
    }
    if (argc != 3) return usageError("project " + std::string(sub) + ": expected one DIR");
    auto store = openForReading(argv[2]);
    if (!store) return fail(store.status());
    if (sub == "info") return infoProject(**store);
    return sub == "list" ? listProject(**store) : checkProject(**store);
}
