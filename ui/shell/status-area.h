// StatusArea: the status bar's content. Left, the last status message; right, the running jobs
// (a button "N jobs" whose menu lists each job with its progress and a Cancel action, and a
// progress bar for the whole set: busy when a job has no total), the process's resident memory,
// refreshed every 2 s, and the compute device. Thread: GUI.
#pragma once

#include <QWidget>

class QLabel;
class QMenu;
class QProgressBar;
class QStatusBar;
class QTimer;
class QToolButton;

namespace moe::ui {

class JobTracker;

class StatusArea : public QObject {
    Q_OBJECT
public:
    StatusArea(QStatusBar* bar, JobTracker& jobs);

    void showMessage(const QString& message);
    void setDevice(const QString& device);
    QString message() const;
    QString jobsText() const;

private:
    void updateJobs();
    void updateMemory();

    JobTracker& m_jobs;
    QLabel* m_message = nullptr;
    QToolButton* m_jobsButton = nullptr;
    QMenu* m_jobsMenu = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_memory = nullptr;
    QLabel* m_device = nullptr;
    QTimer* m_memoryTimer = nullptr;
};

} // namespace moe::ui
