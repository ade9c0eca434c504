// ProjectStore::Impl, shared by the files that implement the store facade (project-store.cpp:
// models, chats, v0 runs; project-open.cpp: create/open/lock/migrate/recover; project-archive.cpp:
// backup, export, import). Private to moe_projects.
#pragma once

#include "moe-projects/project-store.h"
#include "project-lock.h"
#include "sqlite-db.h"

#include <memory>
#include <optional>
#include <string>

namespace moe::projects {

struct ProjectStore::Impl {
    std::string dir;
    std::shared_ptr<ProjectLock> lock; // null for OpenMode::ReadOnly
    std::unique_ptr<Database> db;
    std::string name;
    int schemaVersion = 0;
    bool readOnly = false;
    std::string migrationBackup;
    int recoveredRuns = 0;

    // Built once db is open (they hold references to it).
    std::optional<ModelVersionRepo> modelVersions;
    std::optional<DatasetRepo> datasets;
    std::optional<ComparisonRepo> comparisons;
    std::optional<TrainingRunRepo> trainingRuns;
    std::optional<BenchRepo> bench;
    std::optional<EvalRepo> evals;
    std::optional<ReportRepo> reports;

    void makeRepos() {
        modelVersions.emplace(*db);
        datasets.emplace(*db);
        comparisons.emplace(*db);
        trainingRuns.emplace(*db, processOwnerId());
        bench.emplace(*db, *trainingRuns);
        evals.emplace(*db);
        reports.emplace(*db);
    }

    Status notFound(const std::string& what, int64_t id) const {
        return errorStatus(StatusCode::NotFound,
                           db->path() + ": no " + what + " with id " + std::to_string(id));
    }
};

} // namespace moe::projects
