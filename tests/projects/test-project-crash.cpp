// Crash consistency: "a process killed at any moment leaves a consistent database with every
// committed row". A forked child opens the project and writes messages in a loop of small
// transactions, reporting each committed id through a pipe; the parent SIGKILLs it after a random
// short delay, then opens the store, runs checkIntegrity() and checks every reported row is
// there, intact. Repeated over many trials so kills land in open, in a transaction, in a commit
// and in a WAL checkpoint. A second case kills the process that is creating the project.
// Linux only (fork, SIGKILL). The seed is printed so a failure can be replayed (MOE_CRASH_SEED).
#include "moe-projects/project-store.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace moe::projects;

namespace {

constexpr int kTrials = 50;

std::string messageContent(int trial, int i) {
    return "trial " + std::to_string(trial) + " message " + std::to_string(i) + " " +
           std::string(static_cast<size_t>(i % 7) * 50, 'x');
}

bool writeAll(int fd, const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n <= 0) return false;
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// Child body: never returns. Exit codes other than death by SIGKILL mean the writer failed.
[[noreturn]] void writerChild(const std::string& dir, int64_t sessionId, int trial, int fd) {
    auto store = ProjectStore::open(dir);
    if (!store) _exit(3);
    for (int i = 0;; ++i) {
        MessageRecord message;
        message.sessionId = sessionId;
        message.role = i % 2 ? "assistant" : "user";
        message.content = messageContent(trial, i);
        message.samplingJson = R"({"temperature":0.5})";
        message.seed = static_cast<uint64_t>(i);
        auto id = (*store)->addMessage(message);
        if (!id) _exit(4);
        // Reported only after commit returned: every reported id must survive the kill.
        const int64_t record[2] = {*id, i};
        if (!writeAll(fd, record, sizeof record)) _exit(5);
        if (i % 25 == 24) {
            auto run = (*store)->beginRun("generate", "{}");
            if (!run) _exit(6);
            // A bulk metric batch inside the run, so kills also land in large transactions.
            std::vector<MetricRow> rows(500);
            for (size_t k = 0; k < rows.size(); ++k) {
                rows[k].step = static_cast<int64_t>(k);
                rows[k].loss = 1.0 / static_cast<double>(k + 1);
            }
            if (!(*store)->trainingRuns().appendMetrics(*run, rows)) _exit(7);
            if (!(*store)->finishRun(*run, "completed", "{}")) _exit(6);
        }
    }
}

// Blocks until the writer reported its first commit (one record), or the pipe closed.
std::string readFirstRecord(int fd) {
    std::string buffer;
    char c[16];
    while (buffer.size() < sizeof c) {
        const ssize_t n = ::read(fd, c, sizeof c - buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        buffer.append(c, static_cast<size_t>(n));
    }
    return buffer;
}

// Reads the writer's reports until the pipe closes; `buffer` holds bytes already read.
std::vector<std::pair<int64_t, int>> readReports(int fd, std::string buffer = {}) {
    std::vector<std::pair<int64_t, int>> reports;
    char chunk[4096];
    while (true) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
    }
    constexpr size_t kRecord = 2 * sizeof(int64_t);
    for (size_t pos = 0; pos + kRecord <= buffer.size(); pos += kRecord) {
        int64_t record[2];
        std::memcpy(record, buffer.data() + pos, kRecord);
        reports.emplace_back(record[0], static_cast<int>(record[1]));
    }
    return reports;
}

// Kills pid with SIGKILL after delayUs and reaps it; returns the wait status.
int killAfter(pid_t pid, int delayUs) {
    ::usleep(static_cast<useconds_t>(delayUs));
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

uint32_t crashSeed() {
    const QByteArray env = qgetenv("MOE_CRASH_SEED");
    const uint32_t seed = env.isEmpty() ? std::random_device{}() : env.toUInt();
    qInfo("MOE_CRASH_SEED=%u", seed);
    return seed;
}

} // namespace

class TestProjectCrash : public QObject {
    Q_OBJECT

private slots:
    void killedWriterLeavesConsistentDb();
    void killedCreatorLeavesOpenableProject();
};

void TestProjectCrash::killedWriterLeavesConsistentDb() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString();
    int64_t sessionId = 0;
    {
        // The parent holds no connection while children run: nothing sqlite crosses a fork.
        auto store = ProjectStore::create(dir, "crash");
        QVERIFY2(store.isOk(), store.status().toString().c_str());
        ModelRecord model;
        model.path = "/m/x";
        model.contentHash = "fp1:x";
        const int64_t modelId = *(*store)->addModel(model);
        sessionId = *(*store)->createChatSession(modelId, "crash");
    }
    std::mt19937 rng(crashSeed());
    std::uniform_int_distribution<int> delayUs(500, 40000);
    size_t totalReported = 0;
    std::set<int64_t> allReported;

    for (int trial = 0; trial < kTrials; ++trial) {
        int fds[2];
        QVERIFY(::pipe(fds) == 0);
        const pid_t pid = ::fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            writerChild(dir, sessionId, trial, fds[1]);
        }
        ::close(fds[1]);
        // Random kill points; the last trial waits for the writer's first commit first, so a slow,
        // loaded machine still kills at least one writer that has committed something.
        const std::string first = trial == kTrials - 1 ? readFirstRecord(fds[0]) : std::string();
        const int waitStatus = killAfter(pid, delayUs(rng));
        const auto reports = readReports(fds[0], first);
        ::close(fds[0]);
        QVERIFY2(WIFSIGNALED(waitStatus) && WTERMSIG(waitStatus) == SIGKILL,
                 qPrintable(QStringLiteral("trial %1: writer exited on its own (status %2)")
                                .arg(trial)
                                .arg(WIFEXITED(waitStatus) ? WEXITSTATUS(waitStatus) : -1)));

        auto store = ProjectStore::open(dir);
        QVERIFY2(store.isOk(), store.status().toString().c_str());
        const moe::Status integrity = (*store)->checkIntegrity();
        QVERIFY2(integrity.isOk(), integrity.toString().c_str());
        auto messages = (*store)->messages(sessionId);
        QVERIFY2(messages.isOk(), messages.status().toString().c_str());
        std::map<int64_t, const MessageRecord*> byId;
        for (const MessageRecord& m : *messages)
            byId[m.id] = &m;
        for (const auto& [id, i] : reports) {
            const auto it = byId.find(id);
            QVERIFY2(it != byId.end(),
                     qPrintable(QStringLiteral("trial %1: committed message %2 (#%3) is missing")
                                    .arg(trial)
                                    .arg(id)
                                    .arg(i)));
            QCOMPARE(it->second->content, messageContent(trial, i));
            QCOMPARE(it->second->seed, uint64_t(i));
            allReported.insert(id);
        }
        // Every row in the table is whole: one of the contents some trial wrote.
        for (const MessageRecord& m : *messages) {
            QVERIFY2(m.content.starts_with("trial ") && !m.createdAt.empty(), m.content.c_str());
        }
        totalReported += reports.size();
        auto runs = (*store)->runs();
        QVERIFY2(runs.isOk(), runs.status().toString().c_str());
        for (const RunRecord& run : *runs) {
            QVERIFY(run.status == "interrupted" || run.status == "completed");
            // A metric batch is all or nothing, and the run summary agrees with the rows.
            auto summary = (*store)->trainingRuns().run(run.id);
            auto metrics = (*store)->trainingRuns().metrics(run.id);
            QVERIFY(summary.isOk() && metrics.isOk());
            QVERIFY(metrics->empty() || metrics->size() == 500);
            QCOMPARE(summary->metricCount, int64_t(metrics->size()));
        }
    }
    QCOMPARE(allReported.size(), totalReported); // ids never reused after a crash
    qInfo("%d trials, %zu committed messages reported by killed writers", kTrials, totalReported);
    QVERIFY2(totalReported > 0, "no writer committed anything; the delays are too short");
}

void TestProjectCrash::killedCreatorLeavesOpenableProject() {
    QTemporaryDir tmp;
    std::mt19937 rng(crashSeed());
    std::uniform_int_distribution<int> delayUs(0, 150000); // create() takes ~100 ms (fsync)
    int created = 0;
    for (int trial = 0; trial < kTrials / 2; ++trial) {
        const std::string dir =
            QDir(tmp.path()).filePath(QStringLiteral("p%1").arg(trial)).toStdString();
        int fds[2];
        QVERIFY(::pipe(fds) == 0);
        const pid_t pid = ::fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            auto store = ProjectStore::create(dir, "made " + std::to_string(trial));
            if (!store) _exit(3);
            const char ok = 1;
            if (!writeAll(fds[1], &ok, 1)) _exit(5);
            for (;;)
                ::pause();
        }
        ::close(fds[1]);
        killAfter(pid, delayUs(rng));
        char reported = 0;
        const bool finished = ::read(fds[0], &reported, 1) == 1;
        ::close(fds[0]);

        if (!ProjectStore::exists(dir)) {
            QVERIFY2(!finished, "create() returned but project.sqlite is missing");
            continue;
        }
        auto store = ProjectStore::open(dir);
        QVERIFY2(store.isOk(), store.status().toString().c_str());
        QCOMPARE((*store)->schemaVersion(), ProjectStore::latestSchemaVersion());
        QVERIFY((*store)->checkIntegrity().isOk());
        if (finished) {
            QCOMPARE((*store)->name(), "made " + std::to_string(trial));
            ++created;
        }
    }
    qInfo("%d of %d creators finished before the kill", created, kTrials / 2);
}

QTEST_GUILESS_MAIN(TestProjectCrash)
#include "test-project-crash.moc"
