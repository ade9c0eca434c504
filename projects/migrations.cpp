// Applies the embedded schema migrations to project.sqlite (see migrations.h).
//
// Migration state machine of one open():
//
//     read user_version v (no write)
//        |
//        +-- v > latest ------------------------> refuse: Unsupported, file untouched
//        |
//        +-- v == latest -----------------------> ready
//        |
//        +-- v < latest --> BEGIN IMMEDIATE
//                            re-read v (another process may have migrated meanwhile)
//                            apply v+1 .. latest, PRAGMA user_version = latest
//                            [inTransaction hook]
//                            COMMIT ---------------> ready
//                            any error -> ROLLBACK -> error (schema stays at v)
//
// Invariant: user_version always equals the number of the last migration whose statements are
// in the file, because both change in the same transaction.
#include "migrations.h"

#include "sqlite-db.h"

#include <string>

namespace moe::projects {

int latestMigrationVersion() {
    const auto migrations = embeddedMigrations();
    return migrations.empty() ? 0 : migrations.back().version;
}

Result<int> checkSchemaVersion(Database& db) {
    MOE_ASSIGN_OR_RETURN(const int64_t version,
                         db.queryInt("PRAGMA user_version", "read schema version"));
    const int latest = latestMigrationVersion();
    if (version > latest) {
        return errorStatus(StatusCode::Unsupported,
                           db.path() + ": project schema version " + std::to_string(version) +
                               " is newer than this build of MoE Studio knows (" +
                               std::to_string(latest) +
                               "); open it with a newer MoE Studio. The file was not changed.");
    }
    if (version < 0) {
        return errorStatus(StatusCode::CorruptFile,
                           db.path() + ": negative schema version " + std::to_string(version));
    }
    return static_cast<int>(version);
}

Result<int> migrate(Database& db, const std::function<Status()>& inTransaction) {
    MOE_ASSIGN_OR_RETURN(int version, checkSchemaVersion(db));
    const int latest = latestMigrationVersion();
    if (version == latest && !inTransaction) return version;

    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(db, "migrate schema"));
    MOE_ASSIGN_OR_RETURN(version, checkSchemaVersion(db));
    for (const Migration& migration : embeddedMigrations()) {
        if (migration.version <= version) continue;
        MOE_TRY(db.exec(migration.sql, "apply migration " + std::string(migration.name)));
    }
    if (version != latest) {
        MOE_TRY(db.exec("PRAGMA user_version = " + std::to_string(latest), "set schema version"));
    }
    if (inTransaction) MOE_TRY(inTransaction());
    MOE_TRY(tx.commit());
    return latest;
}

} // namespace moe::projects
