// ModelsPanel: the project's model library and inspector. The library lists every model of the
// project store as the root of its lineage (base version -> quantized / merged / adapter versions,
// nested by parent); "Add model" takes a GGUF file or a Hugging Face folder, "Add version" a GGUF
// derived from the selected version. Files are loaded, checked and fingerprinted by a
// ModelProbeWorker on its own thread, and the GUI thread records the result in the store (a model
// and its base version, or a derived version). Selecting a version asks the same worker to
// inspect it; the ModelInspector shows the answer (cached per version). Errors are emitted as
// addFailed and shown in a non-blocking message box.
// Thread: GUI; the store is used from the GUI thread only.
#pragma once

#include "workers/model-inspection.h"

#include <QHash>
#include <QSet>
#include <QLoggingCategory>
#include <QThread>
#include <QWidget>

class QLabel;
class QToolButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui {

Q_DECLARE_LOGGING_CATEGORY(lcModels)

class ModelInspector;
class ModelProbeWorker;
struct ProbedModel;

class ModelsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelsPanel(moe::projects::ProjectStore& store, QWidget* parent = nullptr);
    ~ModelsPanel() override;

    // The model / version of the selected library row, or 0.
    qint64 currentModelId() const;
    qint64 currentVersionId() const;
    bool isBusy() const { return !m_pendingAdds.isEmpty(); }
    ModelInspector* inspector() const { return m_inspector; }
    // The version whose inspection the inspector shows (0: none yet).
    qint64 inspectedVersionId() const { return m_shownVersion; }

public slots:
    // Ask for a GGUF file / a Hugging Face folder with a QFileDialog, then addModelFile.
    void chooseModelFile();
    void chooseModelFolder();
    // Asks for a GGUF file and adds it as a version of kind ("quantization" or "merge") under
    // the selected version.
    void chooseVersionFile(const QString& kind);
    // Loads and fingerprints path (a GGUF file or a model folder) on the probe thread; on
    // success records it as a model with its base version and selects it.
    void addModelFile(const QString& path);
    // The same for a derived version of parentVersionId; kind: "quantization" or "merge".
    void addVersionFile(qint64 parentVersionId, const QString& path, const QString& kind);
    // Re-reads the library from the store, keeping the selection when it still exists.
    void reload();
    void selectModel(qint64 modelId);
    void selectVersion(qint64 versionId);

signals:
    void modelSelected(qint64 modelId);
    void versionSelected(qint64 versionId);
    void modelAdded(qint64 modelId);
    void versionAdded(qint64 versionId);
    void addFailed(const QString& error);
    void statusMessage(const QString& message);
    void probeRequested(const QString& path);
    void inspectRequested(qint64 versionId, const QString& path);
    void inspectionShown(qint64 versionId);
    // A probe or an inspection starts (busy = true) or ends; the shell shows it as a job.
    void busyChanged(const QString& what, bool busy);

private:
    struct PendingAdd {
        qint64 parentVersionId = 0; // 0: a new model
        QString kind;
    };
    void onProbed(const moe::ui::ProbedModel& model);
    void onProbeFailed(const QString& path, const QString& error);
    void onInspected(const moe::ui::ModelInspection& inspection);
    void onInspectFailed(qint64 versionId, const QString& path, const QString& error);
    void onSelectionChanged();
    void showError(const QString& error);
    QTreeWidgetItem* findVersionItem(qint64 versionId) const;

    moe::projects::ProjectStore& m_store;
    QTreeWidget* m_list = nullptr;
    QToolButton* m_addButton = nullptr;
    QToolButton* m_versionButton = nullptr;
    QLabel* m_details = nullptr;
    ModelInspector* m_inspector = nullptr;
    QThread m_probeThread;
    ModelProbeWorker* m_probe = nullptr; // lives on m_probeThread, deleted when it finishes
    QHash<QString, PendingAdd> m_pendingAdds; // by absolute path
    QHash<qint64, ModelInspection> m_inspections; // by version id
    QSet<qint64> m_inspecting; // versions asked of the worker and not answered yet
    qint64 m_shownVersion = 0;
};

} // namespace moe::ui
