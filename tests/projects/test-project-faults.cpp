// Fault tests of the project store:
// - disk full: a wrapping sqlite VFS (registered as the default) whose xWrite fails with
//   SQLITE_FULL once a byte budget is spent. Writes fail with a message naming the file and
//   saying the disk is full; after the budget is lifted the database passes integrity_check and
//   holds exactly the rows whose calls succeeded.
// - read-only: the shim opens every file read-only (as a read-only mount does); a read-only
//   folder (chmod, skipped as root, who ignores permissions) fails at the lock file, naming it.
// - locking: a forked child holding the project makes open() fail naming the child's pid;
//   OpenMode::ReadOnly still opens. When the child is SIGKILLed mid-run, the next open marks
//   its run interrupted and keeps its last checkpoint.
// - atomic bench begin: the shim fails the Nth file write from now, for every N until a call
//   succeeds; after each failure no bench run exists without its environment row.
#include "moe-projects/project-store.h"

#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <csignal>
#include <cstring>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace moe::projects;

namespace {

// ---- the fault-injecting VFS ----------------------------------------------------------------

sqlite3_vfs* g_real = nullptr;
std::atomic<int64_t> g_writeBudget{-1}; // bytes left before SQLITE_FULL; -1 = unlimited
std::atomic<bool> g_forceReadOnly{false};
std::atomic<int64_t> g_writesLeft{-1}; // writes that succeed before one fails; -1 = unlimited

struct ShimFile {
    sqlite3_file base; // must be first
    sqlite3_file* real;
};

sqlite3_io_methods g_methods;

int shimWrite(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
    auto* shim = reinterpret_cast<ShimFile*>(f);
    int64_t budget = g_writeBudget.load();
    if (budget >= 0) {
        if (budget < n) return SQLITE_FULL;
        g_writeBudget = budget - n;
    }
    if (g_writesLeft.load() >= 0 && g_writesLeft.fetch_sub(1) == 0) return SQLITE_IOERR_WRITE;
    return shim->real->pMethods->xWrite(shim->real, data, n, offset);
}

// Forwards every other method to the real file.
#define MOE_FORWARD(name, sig, args)                                                               \
    int shim##name sig {                                                                           \
        auto* shim = reinterpret_cast<ShimFile*>(f);                                               \
        return shim->real->pMethods->x##name args;                                                 \
    }
MOE_FORWARD(Read, (sqlite3_file * f, void* p, int n, sqlite3_int64 o), (shim->real, p, n, o))
MOE_FORWARD(Truncate, (sqlite3_file * f, sqlite3_int64 size), (shim->real, size))
MOE_FORWARD(Sync, (sqlite3_file * f, int flags), (shim->real, flags))
MOE_FORWARD(FileSize, (sqlite3_file * f, sqlite3_int64* size), (shim->real, size))
MOE_FORWARD(Lock, (sqlite3_file * f, int l), (shim->real, l))
MOE_FORWARD(Unlock, (sqlite3_file * f, int l), (shim->real, l))
MOE_FORWARD(CheckReservedLock, (sqlite3_file * f, int* out), (shim->real, out))
MOE_FORWARD(FileControl, (sqlite3_file * f, int op, void* arg), (shim->real, op, arg))
MOE_FORWARD(SectorSize, (sqlite3_file * f), (shim->real))
MOE_FORWARD(DeviceCharacteristics, (sqlite3_file * f), (shim->real))
MOE_FORWARD(ShmMap, (sqlite3_file * f, int i, int sz, int w, void volatile** pp),
            (shim->real, i, sz, w, pp))
MOE_FORWARD(ShmLock, (sqlite3_file * f, int o, int n, int fl), (shim->real, o, n, fl))
MOE_FORWARD(ShmUnmap, (sqlite3_file * f, int del), (shim->real, del))
#undef MOE_FORWARD

void shimShmBarrier(sqlite3_file* f) {
    auto* shim = reinterpret_cast<ShimFile*>(f);
    shim->real->pMethods->xShmBarrier(shim->real);
}

int shimClose(sqlite3_file* f) {
    auto* shim = reinterpret_cast<ShimFile*>(f);
    const int rc = shim->real->pMethods ? shim->real->pMethods->xClose(shim->real) : SQLITE_OK;
    sqlite3_free(shim->real);
    return rc;
}

int shimOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* outFlags) {
    auto* shim = reinterpret_cast<ShimFile*>(f);
    shim->real = static_cast<sqlite3_file*>(sqlite3_malloc(g_real->szOsFile));
    std::memset(shim->real, 0, static_cast<size_t>(g_real->szOsFile));
    if (g_forceReadOnly) {
        flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
    }
    const int rc = g_real->xOpen(g_real, name, shim->real, flags, outFlags);
    if (rc != SQLITE_OK) {
        sqlite3_free(shim->real);
        shim->base.pMethods = nullptr;
        return rc;
    }
    shim->base.pMethods = &g_methods;
    return SQLITE_OK;
}

sqlite3_vfs g_shim;

void registerShim() {
    if (g_real) return;
    g_real = sqlite3_vfs_find(nullptr);
    g_methods = {.iVersion = 2,
                 .xClose = shimClose,
                 .xRead = shimRead,
                 .xWrite = shimWrite,
                 .xTruncate = shimTruncate,
                 .xSync = shimSync,
                 .xFileSize = shimFileSize,
                 .xLock = shimLock,
                 .xUnlock = shimUnlock,
                 .xCheckReservedLock = shimCheckReservedLock,
                 .xFileControl = shimFileControl,
                 .xSectorSize = shimSectorSize,
                 .xDeviceCharacteristics = shimDeviceCharacteristics,
                 .xShmMap = shimShmMap,
                 .xShmLock = shimShmLock,
                 .xShmBarrier = shimShmBarrier,
                 .xShmUnmap = shimShmUnmap,
                 .xFetch = nullptr,
                 .xUnfetch = nullptr};
    g_shim = *g_real;
    g_shim.iVersion = 1; // no xSetSystemCall & co: the shim only wraps files
    g_shim.szOsFile = sizeof(ShimFile);
    g_shim.zName = "moe-fault-shim";
    g_shim.xOpen = shimOpen;
    sqlite3_vfs_register(&g_shim, 1);
}

MessageRecord message(int64_t session, int i) {
    MessageRecord m;
    m.sessionId = session;
    m.role = "user";
    m.content = "message " + std::to_string(i) + " " + std::string(2000, 'x');
    return m;
}

} // namespace

class TestProjectFaults : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { registerShim(); }
    void cleanup() {
        g_writeBudget = -1;
        g_forceReadOnly = false;
        g_writesLeft = -1;
    }
    void diskFullFailsClearlyAndKeepsCommittedRows_data();
    void diskFullFailsClearlyAndKeepsCommittedRows();
    void readOnlyFilesFailClearly();
    void readOnlyFolderNamesTheLockFile();
    void secondProcessIsRefusedWithPid();
    void killedRunBecomesInterruptedWithCheckpoint();
    void benchBeginIsAtomic();
};

void TestProjectFaults::diskFullFailsClearlyAndKeepsCommittedRows_data() {
    QTest::addColumn<int>("budget");
    for (const int budget : {0, 3000, 20000, 70000, 200000})
        QTest::addRow("%d bytes", budget) << budget;
}

void TestProjectFaults::diskFullFailsClearlyAndKeepsCommittedRows() {
    QFETCH(int, budget);
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString();
    int64_t session = 0;
    {
        auto store = ProjectStore::create(dir, "full");
        QVERIFY(store.isOk());
        ModelRecord model;
        model.path = "/m";
        model.contentHash = "fp1:m";
        session = *(*store)->createChatSession(*(*store)->addModel(model), "s");
    }
    int committed = 0;
    moe::Status failure;
    {
        auto store = ProjectStore::open(dir);
        QVERIFY(store.isOk());
        g_writeBudget = budget;
        for (int i = 0; i < 500 && failure.isOk(); ++i) {
            auto id = (*store)->addMessage(message(session, i));
            if (id) ++committed;
            else failure = id.status();
        }
        if (failure.isOk()) QFAIL("the write budget was never exhausted");
        g_writeBudget = -1;
    }
    const std::string& text = failure.message();
    QVERIFY2(text.find("project.sqlite") != std::string::npos, text.c_str());
    QVERIFY2(text.find("is full") != std::string::npos, text.c_str());
    QCOMPARE(failure.code(), moe::StatusCode::IoError);

    auto store = ProjectStore::open(dir);
    QVERIFY2(store.isOk(), store.status().toString().c_str());
    QVERIFY((*store)->checkIntegrity().isOk());
    QCOMPARE(*(*store)->messageCount(session), int64_t(committed));
    // And it works again once there is space.
    QVERIFY((*store)->addMessage(message(session, 999)).isOk());
}

void TestProjectFaults::readOnlyFilesFailClearly() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString();
    QVERIFY(ProjectStore::create(dir, "ro").isOk());
    g_forceReadOnly = true;
    auto store = ProjectStore::open(dir);
    if (store) {
        // Opened (nothing needed writing): the first write must fail clearly.
        ModelRecord model;
        model.path = "/m";
        model.contentHash = "fp1:m";
        auto id = (*store)->addModel(model);
        QVERIFY(!id.isOk());
        QVERIFY2(id.status().message().find("read-only") != std::string::npos,
                 id.status().message().c_str());
    } else {
        QVERIFY2(store.status().message().find("project.sqlite") != std::string::npos,
                 store.status().message().c_str());
    }
    g_forceReadOnly = false;
    auto again = ProjectStore::open(dir);
    QVERIFY(again.isOk());
    QVERIFY((*again)->checkIntegrity().isOk());
}

void TestProjectFaults::readOnlyFolderNamesTheLockFile() {
    if (::geteuid() == 0) QSKIP("root ignores folder permissions");
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString();
    QVERIFY(ProjectStore::create(dir, "ro").isOk());
    ::unlink((dir + "/project.lock").c_str());
    QVERIFY(::chmod(dir.c_str(), 0555) == 0);
    auto store = ProjectStore::open(dir);
    ::chmod(dir.c_str(), 0755);
    QVERIFY(!store.isOk());
    QVERIFY2(store.status().message().find("project.lock") != std::string::npos &&
                 store.status().message().find("read-only") != std::string::npos,
             store.status().message().c_str());
}

void TestProjectFaults::secondProcessIsRefusedWithPid() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString();
    QVERIFY(ProjectStore::create(dir, "locked").isOk());
    int ready[2];
    QVERIFY(::pipe(ready) == 0);
    const pid_t pid = ::fork();
    QVERIFY(pid >= 0);
    if (pid == 0) {
        auto store = ProjectStore::open(dir);
        const char ok = store.isOk() ? 1 : 0;
        if (::write(ready[1], &ok, 1) != 1) _exit(2);
        ::pause();
        _exit(0);
    }
    char ok = 0;
    QVERIFY(::read(ready[0], &ok, 1) == 1 && ok == 1);
    auto refused = ProjectStore::open(dir);
    auto reader = ProjectStore::open(dir, ProjectStore::OpenMode::ReadOnly);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::close(ready[0]);
    ::close(ready[1]);
    QVERIFY(!refused.isOk());
    const std::string& text = refused.status().message();
    QVERIFY2(text.find("pid " + std::to_string(pid)) != std::string::npos, text.c_str());
    QVERIFY2(text.find("another MoE Studio process") != std::string::npos, text.c_str());
    QVERIFY2(reader.isOk(), reader.status().toString().c_str());
    QVERIFY((*reader)->readOnly());
    QCOMPARE((*reader)->name(), std::string("locked"));
    // The holder died: the lock went with it.
    QVERIFY(ProjectStore::open(dir).isOk());
}

void TestProjectFaults::killedRunBecomesInterruptedWithCheckpoint() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString();
    QVERIFY(ProjectStore::create(dir, "runs").isOk());
    int ready[2];
    QVERIFY(::pipe(ready) == 0);
    const pid_t pid = ::fork();
    QVERIFY(pid >= 0);
    if (pid == 0) {
        auto store = ProjectStore::open(dir);
        if (!store) _exit(2);
        TrainingRunRepo& runs = (*store)->trainingRuns();
        auto run = runs.begin("finetune", R"({"lr":1e-4})");
        if (!run) _exit(3);
        MetricRow row;
        row.step = 10;
        row.loss = 2.5;
        if (!runs.appendMetrics(*run, std::span(&row, 1))) _exit(4);
        auto checkpoint = runs.addCheckpoint(*run, 10, "checkpoints/run-1/step-10");
        if (!checkpoint) _exit(5);
        const int64_t ids[2] = {*run, *checkpoint};
        if (::write(ready[1], ids, sizeof ids) != sizeof ids) _exit(6);
        ::pause();
        _exit(0);
    }
    int64_t ids[2] = {0, 0};
    QVERIFY(::read(ready[0], ids, sizeof ids) == sizeof ids);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::close(ready[0]);
    ::close(ready[1]);

    auto store = ProjectStore::open(dir);
    QVERIFY(store.isOk());
    QCOMPARE((*store)->recoveredRuns(), 1);
    auto run = (*store)->trainingRuns().run(ids[0]);
    QVERIFY(run.isOk());
    QCOMPARE(run->status, std::string("interrupted"));
    QVERIFY(!run->finishedAt.empty());
    QCOMPARE(run->lastCheckpointId, std::optional<int64_t>(ids[1]));
    QCOMPARE(run->lastStep, int64_t(10));
    QVERIFY2(run->resultJson.find("\"last_checkpoint_id\":" + std::to_string(ids[1])) !=
                 std::string::npos,
             run->resultJson.c_str());
    // A run of this process stays running across a reopen in the same process.
    auto mine = (*store)->trainingRuns().begin("finetune", "{}");
    QVERIFY(mine.isOk());
    auto reopened = ProjectStore::open(dir);
    QVERIFY(reopened.isOk());
    QCOMPARE((*reopened)->recoveredRuns(), 0);
    QCOMPARE((*reopened)->trainingRuns().run(*mine)->status, std::string("running"));
}

void TestProjectFaults::benchBeginIsAtomic() {
    // BenchRepo::begin writes a runs row and a bench_runs row. Failing each write in turn hits
    // the point between the two inserts' pages (and, were they two transactions, between the
    // two commits); a bench run must then either exist with its environment or not at all.
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString();
    QVERIFY(ProjectStore::create(dir, "bench").isOk());
    BenchEnvironment env;
    env.suite = "decode";
    env.gpu = "NVIDIA H100";
    env.backend = "cuda";
    int failures = 0;
    bool succeeded = false;
    for (int64_t n = 0; n < 200 && !succeeded; ++n) {
        {
            auto store = ProjectStore::open(dir);
            QVERIFY2(store.isOk(), store.status().toString().c_str());
            g_writesLeft = n;
            auto run = (*store)->bench().begin(env, R"({"tokens":128})");
            g_writesLeft = -1;
            succeeded = run.isOk();
            if (!succeeded) {
                ++failures;
                QVERIFY2(run.status().message().find("project.sqlite") != std::string::npos,
                         run.status().message().c_str());
            }
        }
        auto store = ProjectStore::open(dir, ProjectStore::OpenMode::ReadOnly);
        QVERIFY2(store.isOk(), store.status().toString().c_str());
        QVERIFY((*store)->checkIntegrity().isOk());
        RunHistoryQuery benchRuns;
        benchRuns.kind = "bench";
        auto runs = (*store)->trainingRuns().history(benchRuns);
        auto withEnvironment = (*store)->bench().history();
        QVERIFY(runs.isOk() && withEnvironment.isOk());
        QVERIFY2(runs->size() == withEnvironment->size(),
                 qPrintable(QStringLiteral("write %1 failed: %2 bench runs, %3 with environment")
                                .arg(n)
                                .arg(runs->size())
                                .arg(withEnvironment->size())));
        QCOMPARE(runs->size(), size_t(succeeded ? 1 : 0));
    }
    QVERIFY(succeeded);
    QVERIFY2(failures > 2, "the sweep never failed a write inside begin()");
}

QTEST_GUILESS_MAIN(TestProjectFaults)
#include "test-project-faults.moc"
