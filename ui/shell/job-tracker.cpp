// JobTracker: running jobs with progress and cancel (see the header).
#include "shell/job-tracker.h"

namespace moe::ui {

JobTracker::JobTracker(QObject* parent) : QObject(parent) {}

int JobTracker::start(const QString& title, std::function<void()> cancel) {
    Entry entry;
    entry.job.id = m_nextId++;
    entry.job.title = title;
    entry.job.cancellable = static_cast<bool>(cancel);
    entry.cancel = std::move(cancel);
    m_jobs.append(std::move(entry));
    emit changed();
    return m_jobs.back().job.id;
}

void JobTracker::setProgress(int id, int done, int total) {
    for (Entry& entry : m_jobs) {
        if (entry.job.id != id) continue;
        entry.job.done = done;
        entry.job.total = total;
        emit changed();
        return;
    }
}

void JobTracker::finish(int id) {
    for (qsizetype i = 0; i < m_jobs.size(); ++i) {
        if (m_jobs[i].job.id != id) continue;
        m_jobs.removeAt(i);
        emit changed();
        return;
    }
}

void JobTracker::cancel(int id) {
    for (const Entry& entry : m_jobs)
        if (entry.job.id == id && entry.cancel) {
            entry.cancel();
            return;
        }
}

int JobTracker::find(const QString& title) const {
    for (const Entry& entry : m_jobs)
        if (entry.job.title == title) return entry.job.id;
    return 0;
}

QList<Job> JobTracker::jobs() const {
    QList<Job> out;
    for (const Entry& entry : m_jobs) out.append(entry.job);
    return out;
}

} // namespace moe::ui
