// Backup, export and import of a project (see moe-projects/project-store.h).
// An export is a tar file: moestudio-export.json (manifest), project.sqlite (a VACUUM INTO copy:
// consistent even while another connection writes, and compact), then the files of adapters/,
// checkpoints/ and reports/. It is written to <target>.partial and renamed, so a crash or a full
// disk never leaves a file that looks like a finished export. Import unpacks into a hidden
// sibling folder, checks the manifest and the database, and only then renames it into place.
#include "moe-projects/project-store.h"

#include "store-impl.h"
#include "tar-archive.h"

#include "moe/version.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace moe::projects {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = "moestudio-export.json";
constexpr const char* kExportedFolders[] = {"adapters", "checkpoints", "reports"};

// Removes path on scope exit unless released.
struct RemoveOnExit {
    fs::path path;
    ~RemoveOnExit() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
};

} // namespace

Status ProjectStore::backupDatabase(const std::string& target) {
    std::error_code ec;
    if (fs::exists(target, ec)) {
        return errorStatus(StatusCode::InvalidArgument, target + ": already exists; not overwritten");
    }
    return m_impl->db->vacuumInto(target, "back up to " + target);
}

Status ProjectStore::exportTo(const std::string& target) {
    const std::string partial = target + ".partial";
    const std::string dbCopy = target + ".sqlite.tmp";
    std::error_code ec;
    fs::remove(partial, ec);
    fs::remove(dbCopy, ec);
    RemoveOnExit cleanDb{dbCopy};
    RemoveOnExit cleanPartial{partial};
    MOE_TRY(m_impl->db->vacuumInto(dbCopy, "export (copy database)"));

    const nlohmann::json manifest = {{"format", "moestudio-project-export"},
                                     {"format_version", 1},
                                     {"name", m_impl->name},
                                     {"schema_version", m_impl->schemaVersion},
                                     {"app_version", versionString()},
                                     {"exported_at", utcTimestampNow()}};
    const std::string manifestFile = target + ".manifest.tmp";
    RemoveOnExit cleanManifest{manifestFile};
    {
        std::ofstream out(manifestFile);
        out << manifest.dump(2) << "\n";
        if (!out) return errorStatus(StatusCode::IoError, manifestFile + ": cannot write");
    }

    MOE_ASSIGN_OR_RETURN(TarWriter tar, TarWriter::create(partial));
    MOE_TRY(tar.addFile(kManifest, manifestFile));
    MOE_TRY(tar.addFile(kDatabaseFile, dbCopy));
    for (const char* folder : kExportedFolders) {
        const fs::path root = fs::path(m_impl->dir) / folder;
        if (!fs::is_directory(root, ec)) continue;
        MOE_TRY(tar.addDirectory(folder));
        for (auto it = fs::recursive_directory_iterator(root, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            const std::string rel = fs::relative(it->path(), m_impl->dir, ec).string();
            if (it->is_directory(ec)) {
                MOE_TRY(tar.addDirectory(rel));
            } else if (it->is_regular_file(ec)) {
                MOE_TRY(tar.addFile(rel, it->path().string()));
            }
        }
        if (ec) return errorStatus(StatusCode::IoError, root.string() + ": " + ec.message());
    }
    MOE_TRY(tar.finish());
    fs::rename(partial, target, ec);
    if (ec) return errorStatus(StatusCode::IoError, target + ": cannot rename: " + ec.message());
    cleanPartial.path.clear();
    return Status::ok();
}

Result<std::unique_ptr<ProjectStore>> ProjectStore::importFrom(const std::string& archive,
                                                               const std::string& dir) {
    std::error_code ec;
    const fs::path target = fs::absolute(dir, ec).lexically_normal();
    if (fs::exists(target, ec) && !fs::is_empty(target, ec)) {
        return errorStatus(StatusCode::InvalidArgument,
                           target.string() + ": not empty; import into a new folder");
    }
    // Built with append(): GCC 12 reports a false -Wrestrict on "." + std::string at -O3.
    std::string stagingName = target.filename().string();
    stagingName.insert(0, 1, '.');
    stagingName.append(".importing");
    const fs::path staging = target.parent_path() / stagingName;
    fs::remove_all(staging, ec);
    fs::create_directories(staging, ec);
    if (ec) {
        return errorStatus(StatusCode::IoError, staging.string() + ": cannot create: " +
                                                    ec.message());
    }
    RemoveOnExit cleanStaging{staging};
    MOE_TRY(extractTar(archive, staging.string()));

    std::ifstream manifestIn(staging / kManifest);
    const auto manifest = nlohmann::json::parse(manifestIn, nullptr, false);
    if (manifest.is_discarded() || !manifest.is_object() ||
        manifest.value("format", "") != "moestudio-project-export") {
        return errorStatus(StatusCode::CorruptFile,
                           archive + ": not a MoE Studio project export (no valid " + kManifest +
                               ")");
    }
    if (!exists(staging.string())) {
        return errorStatus(StatusCode::CorruptFile, archive + ": the export holds no " +
                                                        std::string(kDatabaseFile));
    }
    for (const char* sub : {"adapters", "checkpoints", "reports", "exports"})
        fs::create_directories(staging / sub, ec);
    {
        // Opening migrates an older export and refuses a newer one; the check proves the copy.
        // Errors name the archive first: the staging folder is gone once this returns.
        auto staged = open(staging.string());
        Status checked = staged ? (*staged)->checkIntegrity() : staged.status();
        if (!checked) {
            return errorStatus(checked.code(), archive + ": the project database in the export "
                                                         "is unusable: " + checked.message());
        }
    }
    if (fs::exists(target, ec)) fs::remove(target, ec); // empty folder
    fs::rename(staging, target, ec);
    if (ec) {
        return errorStatus(StatusCode::IoError,
                           target.string() + ": cannot move the imported project into place: " +
                               ec.message());
    }
    cleanStaging.path.clear();
    return open(target.string());
}

} // namespace moe::projects
