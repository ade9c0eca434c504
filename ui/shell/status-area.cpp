// StatusArea: message, jobs with progress and cancel, memory and device (see the header).
#include "shell/status-area.h"

#include "shell/job-tracker.h"
#include "widgets/formatting.h"

#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QProgressBar>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>

#include <unistd.h>

namespace moe::ui {

StatusArea::StatusArea(QStatusBar* bar, JobTracker& jobs) : QObject(bar), m_jobs(jobs) {
    m_message = new QLabel(bar);
    m_message->setObjectName(QStringLiteral("stateLabel"));
    m_message->setTextFormat(Qt::PlainText);
    m_message->setMinimumWidth(120);
    m_jobsButton = new QToolButton(bar);
    m_jobsButton->setObjectName(QStringLiteral("jobsButton"));
    m_jobsButton->setAutoRaise(true);
    m_jobsButton->setPopupMode(QToolButton::InstantPopup);
    m_jobsMenu = new QMenu(m_jobsButton);
    m_jobsButton->setMenu(m_jobsMenu);
    m_progress = new QProgressBar(bar);
    m_progress->setObjectName(QStringLiteral("jobsProgress"));
    m_progress->setMaximumWidth(140);
    m_progress->setMaximumHeight(14);
    m_progress->setTextVisible(false);
    m_memory = new QLabel(bar);
    m_memory->setObjectName(QStringLiteral("memoryLabel"));
    m_device = new QLabel(QObject::tr("Device: ..."), bar);
    m_device->setObjectName(QStringLiteral("deviceLabel"));
    bar->addWidget(m_message, 1);
    bar->addPermanentWidget(m_progress);
    bar->addPermanentWidget(m_jobsButton);
    bar->addPermanentWidget(m_memory);
    bar->addPermanentWidget(m_device);

    connect(&m_jobs, &JobTracker::changed, this, &StatusArea::updateJobs);
    m_memoryTimer = new QTimer(this);
    m_memoryTimer->setInterval(2000);
    connect(m_memoryTimer, &QTimer::timeout, this, &StatusArea::updateMemory);
    m_memoryTimer->start();
    updateJobs();
    updateMemory();
}

void StatusArea::showMessage(const QString& message) {
    m_message->setText(message);
    m_message->setToolTip(message);
}

void StatusArea::setDevice(const QString& device) {
    m_device->setText(QObject::tr("Device: %1").arg(device));
    m_device->setToolTip(device);
}

QString StatusArea::message() const { return m_message->text(); }

QString StatusArea::jobsText() const { return m_jobsButton->text(); }

void StatusArea::updateJobs() {
    const QList<Job> jobs = m_jobs.jobs();
    m_jobsButton->setText(jobs.isEmpty() ? QObject::tr("No jobs")
                                         : QObject::tr("%n job(s) running", nullptr, static_cast<int>(jobs.size())));
    m_jobsMenu->clear();
    int done = 0;
    int total = 0;
    bool indeterminate = false;
    for (const Job& job : jobs) {
        QString text = job.title;
        if (job.total > 0) text += QStringLiteral("  (%1/%2)").arg(job.done).arg(job.total);
        QMenu* sub = m_jobsMenu->addMenu(text);
        QAction* cancel = sub->addAction(QObject::tr("Cancel"));
        cancel->setEnabled(job.cancellable);
        const int id = job.id;
        connect(cancel, &QAction::triggered, this, [this, id] { m_jobs.cancel(id); });
        if (job.total > 0) {
            done += job.done;
            total += job.total;
        } else {
            indeterminate = true;
        }
    }
    if (jobs.isEmpty()) m_jobsMenu->addAction(QObject::tr("Nothing is running"))->setEnabled(false);
    m_progress->setVisible(!jobs.isEmpty());
    if (indeterminate || total == 0) m_progress->setRange(0, 0);
    else {
        m_progress->setRange(0, total);
        m_progress->setValue(done);
    }
}

void StatusArea::updateMemory() {
    // Resident set size from /proc (Linux); elsewhere the label stays empty.
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly)) return;
    const QList<QByteArray> fields = statm.readAll().split(' ');
    if (fields.size() < 2) return;
    const qint64 pages = fields[1].toLongLong();
    m_memory->setText(QObject::tr("RSS %1").arg(formatBytes(pages * sysconf(_SC_PAGESIZE))));
}

} // namespace moe::ui
