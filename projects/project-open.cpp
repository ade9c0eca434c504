// Creating and opening a project folder (see moe-projects/project-store.h).
//
// open(dir, ReadWrite):
//
//     folder + project.sqlite exist? --no--> NotFound
//        |
//     take project.lock ---------------held by a live process--> IoError naming its pid
//        |
//     read user_version v (no write) --v > latest--> Unsupported, file untouched
//        |
//        +-- 0 < v < latest: VACUUM INTO backups/project-v<v>-<time>.sqlite (failure stops here)
//        |
//     WAL + foreign keys, migrate to latest (one transaction; see migrations.cpp)
//        |
//     runs 'running' under another owner --> 'interrupted' (their process is gone: we hold the
//        |                                   lock, so no other live process can be running them)
//     ready
//
// open(dir, ReadOnly) takes no lock, writes nothing and refuses a schema other than latest.
#include "moe-projects/project-store.h"

#include "migrations.h"
#include "store-impl.h"

#include "moe/version.h"

#include <filesystem>
#include <utility>

namespace moe::projects {

namespace fs = std::filesystem;

namespace {

constexpr const char* kArtifactFolders[] = {"adapters", "checkpoints", "reports", "exports"};

std::string normalizedDir(const std::string& dir) {
    std::error_code ec;
    fs::path path = fs::absolute(dir, ec);
    if (ec) path = dir;
    path = path.lexically_normal();
    std::string text = path.string();
    while (text.size() > 1 && text.back() == '/')
        text.pop_back();
    return text;
}

Result<std::string> loadName(Database& db) {
    MOE_ASSIGN_OR_RETURN(
        Statement s,
        db.prepare("SELECT value FROM project WHERE key = 'name'", "read project name"));
    MOE_ASSIGN_OR_RETURN(const bool row, s.step());
    return row ? s.columnText(0) : std::string();
}

// Copies the database into backups/ before a migration changes it; returns the copy's path.
Result<std::string> backupBeforeMigration(Database& db, const std::string& dir, int version) {
    const fs::path folder = fs::path(dir) / ProjectStore::kBackupFolder;
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) {
        return errorStatus(StatusCode::IoError, folder.string() +
                                                    ": cannot create the backup folder before "
                                                    "migrating the project: " +
                                                    ec.message());
    }
    std::string stamp = utcTimestampNow();
    for (char& c : stamp)
        if (c == ':') c = '-';
    std::string target =
        (folder / ("project-v" + std::to_string(version) + "-" + stamp + ".sqlite")).string();
    MOE_TRY(db.vacuumInto(target, "back up before migrating from schema version " +
                                            std::to_string(version)));
    return target;
}

} // namespace

bool ProjectStore::exists(const std::string& dir) {
    std::error_code ec;
    return fs::is_regular_file(fs::path(dir) / kDatabaseFile, ec);
}

int ProjectStore::latestSchemaVersion() {
    return latestMigrationVersion();
}

Result<std::unique_ptr<ProjectStore>> ProjectStore::create(const std::string& dir,
                                                           const std::string& name) {
    if (dir.empty()) return errorStatus(StatusCode::InvalidArgument, "project folder is empty");
    auto impl = std::make_unique<Impl>();
    impl->dir = normalizedDir(dir);
    if (exists(impl->dir)) {
        return errorStatus(StatusCode::InvalidArgument,
                           impl->dir + ": already holds a MoE Studio project (" + kDatabaseFile +
                               "); open it instead");
    }
    std::error_code ec;
    fs::create_directories(impl->dir, ec);
    if (ec) {
        return errorStatus(StatusCode::IoError,
                           impl->dir + ": cannot create project folder: " + ec.message());
    }
    MOE_ASSIGN_OR_RETURN(impl->lock, ProjectLock::acquire(impl->dir));
    for (const char* sub : kArtifactFolders) {
        fs::create_directories(fs::path(impl->dir) / sub, ec);
        if (ec) {
            return errorStatus(StatusCode::IoError,
                               impl->dir + ": cannot create folder " + sub + ": " + ec.message());
        }
    }
    impl->name = name.empty() ? fs::path(impl->dir).filename().string() : name;

    const std::string dbPath = (fs::path(impl->dir) / kDatabaseFile).string();
    MOE_ASSIGN_OR_RETURN(impl->db, Database::open(dbPath, Database::OpenMode::CreateIfMissing));
    MOE_TRY(impl->db->configure());
    Database& db = *impl->db;
    const std::string projectName = impl->name;
    // The meta rows go in with the schema: a project is either fully made or still empty.
    auto writeMeta = [&db, &projectName]() -> Status {
        MOE_ASSIGN_OR_RETURN(
            Statement s,
            db.prepare("INSERT INTO project (key, value) VALUES (?, ?)", "write project meta"));
        const std::pair<const char*, std::string> rows[] = {
            {"name", projectName},
            {"created_at", utcTimestampNow()},
            {"app_version", versionString()},
        };
        for (const auto& [key, value] : rows) {
            MOE_TRY(s.bind(1, key));
            MOE_TRY(s.bind(2, value));
            MOE_TRY(s.run());
            MOE_TRY(s.reset());
        }
        return Status::ok();
    };
    MOE_ASSIGN_OR_RETURN(impl->schemaVersion, migrate(db, writeMeta));
    impl->makeRepos();
    return std::unique_ptr<ProjectStore>(new ProjectStore(std::move(impl)));
}

Result<std::unique_ptr<ProjectStore>> ProjectStore::open(const std::string& dir, OpenMode mode) {
    auto impl = std::make_unique<Impl>();
    impl->dir = normalizedDir(dir);
    impl->readOnly = mode == OpenMode::ReadOnly;
    std::error_code ec;
    if (!fs::is_directory(impl->dir, ec)) {
        return errorStatus(StatusCode::NotFound, impl->dir + ": no such project folder");
    }
    if (!exists(impl->dir)) {
        return errorStatus(StatusCode::NotFound, impl->dir + ": not a MoE Studio project (no " +
                                                     kDatabaseFile + " in this folder)");
    }
    const std::string dbPath = (fs::path(impl->dir) / kDatabaseFile).string();
    if (impl->readOnly) {
        MOE_ASSIGN_OR_RETURN(impl->db, Database::open(dbPath, Database::OpenMode::ReadOnly));
        MOE_ASSIGN_OR_RETURN(impl->schemaVersion, checkSchemaVersion(*impl->db));
        if (impl->schemaVersion != latestMigrationVersion()) {
            return errorStatus(StatusCode::Unsupported,
                               dbPath + ": project schema version " +
                                   std::to_string(impl->schemaVersion) +
                                   " is older than this build's (" +
                                   std::to_string(latestMigrationVersion()) +
                                   "); open it read-write once to migrate it");
        }
        MOE_TRY(impl->db->exec("PRAGMA query_only=ON", "open read-only"));
        MOE_ASSIGN_OR_RETURN(impl->name, loadName(*impl->db));
        impl->makeRepos();
        return std::unique_ptr<ProjectStore>(new ProjectStore(std::move(impl)));
    }

    MOE_ASSIGN_OR_RETURN(impl->lock, ProjectLock::acquire(impl->dir));
    MOE_ASSIGN_OR_RETURN(impl->db, Database::open(dbPath, Database::OpenMode::ExistingOnly));
    // Refuse a newer schema before anything (journal mode included) writes to the file.
    MOE_ASSIGN_OR_RETURN(const int version, checkSchemaVersion(*impl->db));
    if (version > 0 && version < latestMigrationVersion()) {
        MOE_ASSIGN_OR_RETURN(impl->migrationBackup, backupBeforeMigration(*impl->db, impl->dir, version));
    }
    MOE_TRY(impl->db->configure());
    MOE_ASSIGN_OR_RETURN(impl->schemaVersion, migrate(*impl->db));
    MOE_ASSIGN_OR_RETURN(impl->name, loadName(*impl->db));
    impl->makeRepos();
    MOE_ASSIGN_OR_RETURN(impl->recoveredRuns, impl->trainingRuns->recoverInterrupted());
    return std::unique_ptr<ProjectStore>(new ProjectStore(std::move(impl)));
}

} // namespace moe::projects
