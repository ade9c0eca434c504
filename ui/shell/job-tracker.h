// JobTracker: the studio's list of running jobs (a model load or inspection, a comparison, a
// routing run, later fine-tunes and benchmarks), several at once. Panels start a job with a title
// and an optional cancel function, report progress, and finish it; the status area lists the
// jobs with their progress and a Cancel action each. Nothing here touches the engine: cancel
// functions only raise a worker's stop flag. Thread: GUI.
#pragma once

#include <QList>
#include <QObject>
#include <QString>

#include <functional>

namespace moe::ui {

struct Job {
    int id = 0;
    QString title;
    int done = 0;  // progress: done of total (total 0: indeterminate)
    int total = 0;
    bool cancellable = false;
};

class JobTracker : public QObject {
    Q_OBJECT
public:
    explicit JobTracker(QObject* parent = nullptr);

    // Returns the job's id (> 0).
    int start(const QString& title, std::function<void()> cancel = {});
    void setProgress(int id, int done, int total);
    // Ends the job (a no-op for an unknown or finished id).
    void finish(int id);
    // Calls the job's cancel function; the job stays listed until its owner finishes it.
    void cancel(int id);
    // Finds the first running job with this title (0: none), for owners that track by name.
    int find(const QString& title) const;

    QList<Job> jobs() const;
    int count() const { return static_cast<int>(m_jobs.size()); }

signals:
    void changed();

private:
    struct Entry {
        Job job;
        std::function<void()> cancel;
    };
    QList<Entry> m_jobs;
    int m_nextId = 1;
};

} // namespace moe::ui
