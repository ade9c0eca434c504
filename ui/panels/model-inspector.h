// ModelInspector: the right half of the Models panel. Shows one ModelInspection (gathered on the
// probe worker) in tabs: Overview (architecture and hyper-parameters, expert counts, metadata),
// Tensors (name, shape, type, size; filterable, sortable), Tokenizer, Chat template, and Memory
// (per device: weights + KV cache at the default and trained context). Pure view: no engine
// calls, no store access. Thread: GUI.
#pragma once

#include "workers/model-inspection.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QTabWidget;
class QTableWidget;
class QTreeWidget;

namespace moe::ui {

class ModelInspector : public QWidget {
    Q_OBJECT
public:
    explicit ModelInspector(QWidget* parent = nullptr);

    void showInspection(const ModelInspection& inspection);
    // A line in place of the tabs' content: "Loading...", "No model selected", an error.
    void showMessage(const QString& message);

    // For tests and the docs: the tab widget and its tables.
    QTabWidget* tabs() const { return m_tabs; }
    QTableWidget* tensorTable() const { return m_tensors; }
    QTableWidget* memoryTable() const { return m_memory; }
    QTreeWidget* overviewTree() const { return m_overview; }

private:
    void fillOverview(const ModelInspection& inspection);
    void fillTensors(const ModelInspection& inspection);
    void fillTokenizer(const ModelInspection& inspection);
    void fillMemory(const ModelInspection& inspection);
    void filterTensors(const QString& text);

    QLabel* m_title = nullptr;
    QTabWidget* m_tabs = nullptr;
    QTreeWidget* m_overview = nullptr;
    QLineEdit* m_tensorFilter = nullptr;
    QLabel* m_tensorSummary = nullptr;
    QTableWidget* m_tensors = nullptr;
    QLabel* m_tokenizer = nullptr;
    QPlainTextEdit* m_template = nullptr;
    QLabel* m_templateNote = nullptr;
    QLabel* m_memoryNote = nullptr;
    QTableWidget* m_memory = nullptr;
};

} // namespace moe::ui
