// ModelInspector: tabs describing one model (see the header).
#include "panels/model-inspector.h"

#include "widgets/formatting.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QTabWidget>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <map>

namespace moe::ui {

namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

// A table cell that sorts by a number kept in Qt::UserRole while showing formatted text.
class NumericItem : public QTableWidgetItem {
public:
    NumericItem(const QString& text, double value) : QTableWidgetItem(text) {
        setData(Qt::UserRole, value);
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override {
        return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble();
    }
};

QTableWidgetItem* textItem(const QString& text) {
    auto* item = new QTableWidgetItem(text);
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    return item;
}

QTreeWidgetItem* addGroup(QTreeWidget* tree, const QString& title) {
    auto* group = new QTreeWidgetItem(tree, {title});
    QFont bold = group->font(0);
    bold.setBold(true);
    group->setFont(0, bold);
    group->setFirstColumnSpanned(true);
    return group;
}

void addRow(QTreeWidgetItem* group, const QString& key, const QString& value) {
    auto* row = new QTreeWidgetItem(group, {key, value});
    row->setToolTip(1, value);
}

QString shapeText(const std::vector<int64_t>& shape) {
    QStringList dims;
    for (int64_t d : shape) dims << QString::number(d);
    return QStringLiteral("[%1]").arg(dims.join(QStringLiteral(", ")));
}

} // namespace

ModelInspector::ModelInspector(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("modelInspector"));
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("inspectorTitle"));
    m_title->setTextFormat(Qt::RichText);
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_overview = new QTreeWidget(this);
    m_overview->setObjectName(QStringLiteral("overviewTree"));
    m_overview->setHeaderLabels({tr("Property"), tr("Value")});
    m_overview->setUniformRowHeights(true);
    m_overview->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);

    m_tensorFilter = new QLineEdit(this);
    m_tensorFilter->setObjectName(QStringLiteral("tensorFilter"));
    m_tensorFilter->setPlaceholderText(tr("Filter tensors by name or type"));
    m_tensorFilter->setClearButtonEnabled(true);
    m_tensorSummary = new QLabel(this);
    m_tensors = new QTableWidget(0, 4, this);
    m_tensors->setObjectName(QStringLiteral("tensorTable"));
    m_tensors->setHorizontalHeaderLabels({tr("Name"), tr("Shape"), tr("Type"), tr("Size")});
    m_tensors->verticalHeader()->hide();
    m_tensors->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tensors->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tensors->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    for (int c = 1; c < 4; ++c)
        m_tensors->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    auto* tensorPage = new QWidget(this);
    auto* tensorLayout = new QVBoxLayout(tensorPage);
    tensorLayout->addWidget(m_tensorFilter);
    tensorLayout->addWidget(m_tensorSummary);
    tensorLayout->addWidget(m_tensors, 1);
    connect(m_tensorFilter, &QLineEdit::textChanged, this, &ModelInspector::filterTensors);

    m_tokenizer = new QLabel(this);
    m_tokenizer->setObjectName(QStringLiteral("tokenizerInfo"));
    m_tokenizer->setTextFormat(Qt::RichText);
    m_tokenizer->setWordWrap(true);
    m_tokenizer->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_tokenizer->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_tokenizer->setMargin(8);

    m_templateNote = new QLabel(this);
    m_templateNote->setWordWrap(true);
    m_template = new QPlainTextEdit(this);
    m_template->setObjectName(QStringLiteral("chatTemplateText"));
    m_template->setReadOnly(true);
    m_template->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_template->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto* templatePage = new QWidget(this);
    auto* templateLayout = new QVBoxLayout(templatePage);
    templateLayout->addWidget(m_templateNote);
    templateLayout->addWidget(m_template, 1);

    m_memoryNote = new QLabel(this);
    m_memoryNote->setWordWrap(true);
    m_memoryNote->setTextFormat(Qt::RichText);
    m_memory = new QTableWidget(0, 6, this);
    m_memory->setObjectName(QStringLiteral("memoryTable"));
    m_memory->setHorizontalHeaderLabels(
        {tr("Device"), tr("Memory"), tr("Weights"), tr("KV cache"), tr("Total"), tr("Fits")});
    m_memory->verticalHeader()->hide();
    m_memory->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_memory->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    for (int c = 1; c < 6; ++c)
        m_memory->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    auto* memoryPage = new QWidget(this);
    auto* memoryLayout = new QVBoxLayout(memoryPage);
    memoryLayout->addWidget(m_memoryNote);
    memoryLayout->addWidget(m_memory, 1);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("inspectorTabs"));
    m_tabs->addTab(m_overview, tr("Overview"));
    m_tabs->addTab(tensorPage, tr("Tensors"));
    m_tabs->addTab(m_tokenizer, tr("Tokenizer"));
    m_tabs->addTab(templatePage, tr("Chat template"));
    m_tabs->addTab(memoryPage, tr("Memory"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_title);
    layout->addWidget(m_tabs, 1);
    showMessage(tr("Select a model version to inspect it."));
}

void ModelInspector::showMessage(const QString& message) {
    m_title->setText(message.toHtmlEscaped());
    m_tabs->setEnabled(false);
}

void ModelInspector::showInspection(const ModelInspection& inspection) {
    const moe::ModelSpec& spec = inspection.info.spec;
    m_title->setText(tr("<b>%1</b> &middot; %2 &middot; %3<br><small>%4</small>")
                         .arg(fromStd(spec.name).toHtmlEscaped(),
                              fromStd(spec.architecture).toHtmlEscaped(),
                              fromStd(inspection.info.format).toUpper(),
                              inspection.path.toHtmlEscaped()));
    m_tabs->setEnabled(true);
    fillOverview(inspection);
    fillTensors(inspection);
    fillTokenizer(inspection);
    m_templateNote->setText(inspection.builtinTemplate
                                ? tr("The model has no chat template of its own; the studio "
                                     "renders chats with the built-in ChatML template below.")
                                : tr("The model's own chat template (Jinja), verbatim."));
    m_template->setPlainText(inspection.chatTemplate);
    fillMemory(inspection);
}

void ModelInspector::fillOverview(const ModelInspection& in) {
    const moe::ModelSpec& s = in.info.spec;
    m_overview->clear();
    QTreeWidgetItem* general = addGroup(m_overview, tr("General"));
    addRow(general, tr("Name"), fromStd(s.name));
    addRow(general, tr("Architecture"), fromStd(s.architecture));
    addRow(general, tr("Family"), fromStd(s.family));
    addRow(general, tr("Format"), QStringLiteral("%1 v%2").arg(fromStd(in.info.format)).arg(in.info.formatVersion));
    addRow(general, tr("File size"), formatBytes(static_cast<qint64>(in.info.fileBytes)));
    addRow(general, tr("Parameters"), formatCount(static_cast<qint64>(in.info.parameterCount)));
    if (in.activeParameters > 0)
        addRow(general, tr("Active per token"), formatCount(in.activeParameters));
    addRow(general, tr("Tensor types"), in.quantTypes);

    QTreeWidgetItem* shape = addGroup(m_overview, tr("Hyper-parameters"));
    addRow(shape, tr("Layers"), QString::number(s.nLayer));
    addRow(shape, tr("Embedding"), QString::number(s.nEmbd));
    addRow(shape, tr("Vocabulary"), QString::number(s.nVocab));
    addRow(shape, tr("Heads / KV heads"), QStringLiteral("%1 / %2").arg(s.nHead).arg(s.nHeadKv));
    addRow(shape, tr("Head dim"), QString::number(s.headDim));
    addRow(shape, tr("Trained context"), QString::number(s.nCtxTrain));
    addRow(shape, tr("RoPE"), tr("theta %1, %2, %3 dims, scaling %4")
                                  .arg(static_cast<double>(s.ropeTheta))
                                  .arg(s.ropeInterleaved ? tr("interleaved") : tr("half"))
                                  .arg(s.nRot > 0 ? s.nRot : s.headDim)
                                  .arg(fromStd(s.ropeScaling.type)));
    addRow(shape, tr("RMS eps"), QString::number(static_cast<double>(s.rmsEps)));
    if (s.qkNorm != "none") addRow(shape, tr("QK norm"), fromStd(s.qkNorm));
    if (s.slidingWindow > 0) addRow(shape, tr("Sliding window"), QString::number(s.slidingWindow));
    if (s.kvLoraRank > 0)
        addRow(shape, tr("MLA ranks"), tr("q %1, kv %2, nope %3, rope %4, v %5")
                                           .arg(s.qLoraRank).arg(s.kvLoraRank)
                                           .arg(s.qkNopeHeadDim).arg(s.qkRopeHeadDim)
                                           .arg(s.vHeadDim));

    QTreeWidgetItem* experts = addGroup(m_overview, tr("Experts"));
    addRow(experts, tr("Routed experts"), QString::number(s.nExpert));
    addRow(experts, tr("Experts per token"), QString::number(s.nExpertUsed));
    addRow(experts, tr("Shared experts"), QString::number(s.nExpertShared));
    addRow(experts, tr("Expert FFN size"), QString::number(s.nFf));
    if (s.nFfShared > 0) addRow(experts, tr("Shared FFN size"), QString::number(s.nFfShared));
    if (s.nFfDense > 0) addRow(experts, tr("Dense FFN size"), QString::number(s.nFfDense));
    addRow(experts, tr("Router"), tr("%1, %2%3")
                                      .arg(fromStd(s.scoringFunc), fromStd(s.topkMethod))
                                      .arg(s.normTopkProb ? tr(", normalized top-k") : QString()));
    if (s.nGroup > 1)
        addRow(experts, tr("Groups"), tr("%1, keep %2").arg(s.nGroup).arg(s.topkGroup));
    if (s.firstKDenseReplace > 0)
        addRow(experts, tr("Dense first layers"), QString::number(s.firstKDenseReplace));
    if (s.decoderSparseStep > 1)
        addRow(experts, tr("MoE every"), tr("%1 layers").arg(s.decoderSparseStep));

    QTreeWidgetItem* metadata = addGroup(m_overview, tr("Metadata (%1 keys)").arg(in.info.metadata.size()));
    for (const auto& [key, value] : in.info.metadata) addRow(metadata, fromStd(key), fromStd(value));
    m_overview->expandAll();
    metadata->setExpanded(false);
}

void ModelInspector::fillTensors(const ModelInspection& in) {
    const std::vector<moe::TensorInfo>& tensors = in.info.tensors;
    m_tensors->setSortingEnabled(false);
    m_tensors->setRowCount(static_cast<int>(tensors.size()));
    std::map<std::string, std::pair<int, uint64_t>> byType;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const moe::TensorInfo& t = tensors[i];
        const int row = static_cast<int>(i);
        m_tensors->setItem(row, 0, textItem(fromStd(t.name)));
        m_tensors->setItem(row, 1, textItem(shapeText(t.shape)));
        m_tensors->setItem(row, 2, textItem(fromStd(t.type)));
        m_tensors->setItem(row, 3, new NumericItem(formatBytes(static_cast<qint64>(t.bytes)),
                                                   static_cast<double>(t.bytes)));
        auto& [count, bytes] = byType[t.type];
        ++count;
        bytes += t.bytes;
    }
    m_tensors->setSortingEnabled(true);
    QStringList parts;
    for (const auto& [type, cb] : byType)
        parts << tr("%1: %2 (%3)").arg(fromStd(type)).arg(cb.first).arg(formatBytes(static_cast<qint64>(cb.second)));
    m_tensorSummary->setText(tr("%1 tensors, %2 of weights \u2014 %3")
                                 .arg(tensors.size())
                                 .arg(formatBytes(static_cast<qint64>(in.info.weightBytes)))
                                 .arg(parts.join(QStringLiteral(", "))));
    filterTensors(m_tensorFilter->text());
}

void ModelInspector::filterTensors(const QString& text) {
    for (int row = 0; row < m_tensors->rowCount(); ++row) {
        const bool match = text.isEmpty() ||
                           m_tensors->item(row, 0)->text().contains(text, Qt::CaseInsensitive) ||
                           m_tensors->item(row, 2)->text().contains(text, Qt::CaseInsensitive);
        m_tensors->setRowHidden(row, !match);
    }
}

void ModelInspector::fillTokenizer(const ModelInspection& in) {
    if (!in.hasTokenizer) {
        m_tokenizer->setText(tr("This model has no tokenizer the engine can read; it can be "
                                "inspected but not run."));
        return;
    }
    auto orNone = [this](const QString& s) { return s.isEmpty() ? tr("none") : s.toHtmlEscaped(); };
    QString pieces;
    for (const QString& piece : in.samplePieces)
        pieces += QStringLiteral("<code>%1</code> &nbsp; ").arg(piece.toHtmlEscaped());
    m_tokenizer->setText(tr("<table cellspacing=4>"
                            "<tr><td><b>Kind</b></td><td>%1</td></tr>"
                            "<tr><td><b>Vocabulary</b></td><td>%2 tokens</td></tr>"
                            "<tr><td><b>BOS</b></td><td>%3</td></tr>"
                            "<tr><td><b>EOS</b></td><td>%4</td></tr>"
                            "<tr><td><b>End of turn</b></td><td>%5</td></tr></table>"
                            "<p><b>Sample</b> &ldquo;%6&rdquo; &rarr; %7 tokens:</p><p>%8</p>")
                             .arg(in.tokenizerKind.toHtmlEscaped())
                             .arg(in.vocabSize)
                             .arg(orNone(in.bos), orNone(in.eos), orNone(in.eot),
                                  in.sampleText.toHtmlEscaped())
                             .arg(in.samplePieces.size())
                             .arg(pieces));
}

void ModelInspector::fillMemory(const ModelInspection& in) {
    const qint64 weights = static_cast<qint64>(in.info.weightBytes);
    const qint64 kvPerToken = static_cast<qint64>(in.info.kvBytesPerToken);
    const qint64 kv = kvPerToken * in.defaultContext;
    m_memoryNote->setText(
        tr("Weights %1; KV cache %2 per token (every layer), %3 at the default context of %4 "
           "tokens, %5 at the trained context of %6. Activations and scratch buffers come on "
           "top (small next to the weights).")
            .arg(formatBytes(weights), formatBytes(kvPerToken), formatBytes(kv))
            .arg(in.defaultContext)
            .arg(formatBytes(kvPerToken * std::max(in.info.spec.nCtxTrain, 0)))
            .arg(in.info.spec.nCtxTrain));
    m_memory->setRowCount(static_cast<int>(in.devices.size()));
    for (int row = 0; row < in.devices.size(); ++row) {
        const DeviceMemory& device = in.devices[row];
        const qint64 total = weights + kv;
        m_memory->setItem(row, 0, textItem(device.label));
        m_memory->setItem(row, 1, new NumericItem(device.memoryBytes > 0 ? formatBytes(device.memoryBytes) : tr("unknown"),
                                                  static_cast<double>(device.memoryBytes)));
        m_memory->setItem(row, 2, new NumericItem(formatBytes(weights), static_cast<double>(weights)));
        m_memory->setItem(row, 3, new NumericItem(formatBytes(kv), static_cast<double>(kv)));
        m_memory->setItem(row, 4, new NumericItem(formatBytes(total), static_cast<double>(total)));
        QString fits = tr("unknown");
        if (device.memoryBytes > 0)
            fits = total <= device.memoryBytes
                       ? tr("yes (%1 %)").arg(100.0 * static_cast<double>(total) / static_cast<double>(device.memoryBytes), 0, 'f', 1)
                       : tr("no");
        m_memory->setItem(row, 5, textItem(fits));
    }
}

} // namespace moe::ui
