// Running a benchmark suite from the CLI on a list of models, shared by `bench run` (a suite file)
// and `eval TYPE` (a one-entry suite made from flags): tables or JSON on stdout, and recording in
// the project when one is open.
#pragma once

#include "cli-args.h"

#include "moe-projects/project-store.h"
#include "moe/bench-suite.h"

#include <string>
#include <vector>

struct SuiteTarget {
    std::string path;
    int64_t versionId = 0; // > 0: a project model version (--versions)
    int64_t modelId = 0;   // the version's model (0: record the file as a model)
    std::string basePath;  // its lineage's base model ("" for --model: the first model is the base)
    std::string label;
};

struct SuiteCliOptions {
    std::string device = "cpu";
    int threads = 0;
    bool json = false;
    std::string lmEvalDir; // write choice tasks' lm-eval results JSON here ("" : do not)
};

// --device, --threads, --json, --lm-eval-dir (the caller declared them); false: args.error().
bool readSuiteCliOptions(CliArgs& args, SuiteCliOptions& opts);
// Removes every "--name X" / "--name=X" from argv and returns the values in order (CliArgs keeps
// one value per option).
std::vector<std::string> takeRepeated(int& argc, char** argv, const std::string& name);
// Runs the suite on each target in order; returns the exit code.
int runSuiteOnTargets(const moe::BenchSuite& suite, const std::vector<SuiteTarget>& targets,
                      moe::projects::ProjectStore* store, const SuiteCliOptions& opts);
