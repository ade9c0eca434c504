// The CLI's commands. Each takes the arguments after the program name (argv[0] is the command
// word) and returns the process exit code: 0 success, 1 failure (message on stderr), 2 usage.
#pragma once

#include <string>

int cmdInfo(int argc, char** argv);
int cmdTemplate(int argc, char** argv);
int cmdBench(int argc, char** argv);
int cmdBenchRun(int argc, char** argv); // `bench run SUITE.json ...` (argv[0] is "run")
int cmdEval(int argc, char** argv);
int cmdGenerate(int argc, char** argv);
int cmdChat(int argc, char** argv);
int cmdMakeModel(int argc, char** argv);
int cmdQuantize(int argc, char** argv);
int cmdConvert(int argc, char** argv);
int cmdDemoProject(int argc, char** argv);
int cmdProject(int argc, char** argv);
int cmdRuns(int argc, char** argv);
int cmdTokenize(int argc, char** argv);
int cmdDetokenize(int argc, char** argv);
int cmdLogits(int argc, char** argv);
int cmdRoute(int argc, char** argv);
int cmdReport(int argc, char** argv); // needs the GUI build (charts), else it says so
int cmdFinetune(int argc, char** argv);
int cmdGrads(int argc, char** argv);
int cmdMerge(int argc, char** argv);

// quantize and convert: in (GGUF file or HF folder) -> out GGUF of type ("" keeps types), with the
// per-type summary on stdout; returns the exit code.
int runModelRewrite(const std::string& in, const std::string& out, const std::string& type);
