// ModelsPanel: the project's model library. Lists the models recorded in the project store (name,
// architecture, size, parameters) and adds model files: the file is loaded and fingerprinted by a
// ModelProbeWorker on its own thread, and the GUI thread records the result in the store. Errors
// are emitted as addFailed and shown in a non-blocking message box.
// Thread: GUI; the store is used from the GUI thread only.
#pragma once

#include <QLoggingCategory>
#include <QThread>
#include <QWidget>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui {

Q_DECLARE_LOGGING_CATEGORY(lcModels)

class ModelProbeWorker;
struct ProbedModel;

class ModelsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelsPanel(moe::projects::ProjectStore& store, QWidget* parent = nullptr);
    ~ModelsPanel() override;

    // The id of the selected model, or 0.
    qint64 currentModelId() const;
    bool isBusy() const { return m_pending > 0; }

public slots:
    // Asks for a file with a QFileDialog, then addModelFile.
    void chooseModelFile();
    // Loads and fingerprints path on the probe thread; on success records it and selects it.
    void addModelFile(const QString& path);
    // Re-reads the model list from the store, keeping the selection when it still exists.
    void reload();
    void selectModel(qint64 modelId);

signals:
    void modelSelected(qint64 modelId);
    void modelAdded(qint64 modelId);
    void addFailed(const QString& error);
    void statusMessage(const QString& message);
    void probeRequested(const QString& path);

private:
    void onProbed(const moe::ui::ProbedModel& model);
    void onProbeFailed(const QString& path, const QString& error);
    void onSelectionChanged();
    void showError(const QString& error);

    moe::projects::ProjectStore& m_store;
    QTreeWidget* m_list = nullptr;
    QPushButton* m_addButton = nullptr;
    QLabel* m_details = nullptr;
    QThread m_probeThread;
    ModelProbeWorker* m_probe = nullptr; // lives on m_probeThread, deleted when it finishes
    int m_pending = 0;
};

} // namespace moe::ui
