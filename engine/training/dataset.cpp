// loadDataset, previewDataset and format names (moe/dataset.h): files read record by record
// (dataset-reader), converted (dataset-records), encoded (dataset-encode), then dropped, counted
// and split. The split shuffles records with a private SplitMix64 so a seed gives the same split
// on every platform and library (std::shuffle's algorithm is unspecified).
#include "moe/dataset.h"

#include "ops/ops-backward.h"
#include "training/dataset-encode.h"
#include "training/dataset-reader.h"
#include "training/dataset-records.h"
#include "training/split-mix.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace moe {

static_assert(kDatasetIgnoreLabel == ops::kIgnoreLabel,
              "dataset labels use the loss's ignore index");

using namespace dataset;

namespace {

struct FormatName {
    DatasetFormat format;
    const char* name;
};
constexpr FormatName kFormatNames[] = {
    {DatasetFormat::Auto, "auto"},         {DatasetFormat::Alpaca, "alpaca"},
    {DatasetFormat::ShareGpt, "sharegpt"}, {DatasetFormat::OpenAiMessages, "openai"},
    {DatasetFormat::PlainText, "text"},    {DatasetFormat::OpenAiMessages, "messages"},
    {DatasetFormat::PlainText, "plain"},
};

// The format of the reader's file: `requested`, or detected from its first record.
Result<DatasetFormat> resolveFormat(const std::string& path, DatasetFormat requested) {
    if (requested != DatasetFormat::Auto) return requested;
    return detectDatasetFormat(path);
}

struct LoadedFile {
    std::vector<TrainingExample> examples;
    DatasetStats stats;
};

// Reads and encodes every record of one file. Examples with no target are dropped (counted).
Result<LoadedFile> loadFile(const std::string& path, DatasetFormat format, const EncodeContext& ctx,
                            double progressFrom, double progressTo) {
    MOE_ASSIGN_OR_RETURN(auto reader, RecordReader::open(path));
    LoadedFile file;
    RawRecord raw;
    Record record;
    TrainingExample example;
    const std::string& system = ctx.options.systemPrompt;
    for (;;) {
        MOE_ASSIGN_OR_RETURN(bool more, reader->next(raw));
        if (!more) break;
        ++file.stats.records;
        Status converted = convertRecord(raw, format, reader->kind(), record);
        if (!converted.isOk())
            return Status(StatusCode::InvalidArgument,
                          reader->location(raw.index) + ": " + converted.message());
        std::vector<TrainingExample> produced;
        if (format == DatasetFormat::PlainText) {
            encodeText(ctx, record.text, record.index, produced);
        } else {
            if (!system.empty() && record.turns.front().role != "system")
                record.turns.insert(record.turns.begin(), Turn{"system", system, true});
            Status encoded = encodeConversation(ctx, record.turns, example);
            if (!encoded.isOk())
                return Status(StatusCode::InvalidArgument,
                              reader->location(raw.index) + ": " + encoded.message());
            example.record = record.index;
            produced.push_back(std::move(example));
        }
        for (TrainingExample& ex : produced) {
            if (trainedTokens(ex) == 0) {
                ++file.stats.dropped;
                file.stats.truncated += ex.truncated;
                continue;
            }
            file.examples.push_back(std::move(ex));
        }
        if (ctx.options.progress &&
            !ctx.options.progress(progressFrom + (progressTo - progressFrom) * reader->fraction()))
            return Status(StatusCode::Cancelled,
                          path + ": loading cancelled at " + reader->location(raw.index));
    }
    return file;
}

// Adds the kept examples' counts to stats (records and dropped are counted by the reader).
void countExamples(const std::vector<TrainingExample>& examples, DatasetStats& stats) {
    for (const TrainingExample& ex : examples) {
        ++stats.examples;
        stats.totalTokens += int64_t(ex.tokens.size());
        stats.trainedTokens += trainedTokens(ex);
        stats.truncated += ex.truncated;
        stats.longest = std::max(stats.longest, int64_t(ex.tokens.size()));
    }
}

// Moves a seeded random `fraction` of the records (all examples of a record go together; a file
// of one record splits its windows) from train to validation. Both keep file order.
void splitByFraction(std::vector<TrainingExample>& train, std::vector<TrainingExample>& validation,
                     double fraction, uint64_t seed) {
    std::vector<int64_t> groupOf(train.size());
    std::map<int64_t, int64_t> groupIds;
    for (size_t i = 0; i < train.size(); ++i)
        groupOf[i] = groupIds.emplace(train[i].record, int64_t(groupIds.size())).first->second;
    if (groupIds.size() < 2)
        for (size_t i = 0; i < train.size(); ++i)
            groupOf[i] = int64_t(i);
    const int64_t nGroups = groupIds.size() < 2 ? int64_t(train.size()) : int64_t(groupIds.size());
    if (nGroups < 2) return;
    int64_t nValidation = std::llround(fraction * double(nGroups));
    nValidation = std::clamp<int64_t>(nValidation, 1, nGroups - 1);

    std::vector<int64_t> order(static_cast<size_t>(nGroups));
    for (int64_t g = 0; g < nGroups; ++g)
        order[size_t(g)] = g;
    shuffleIndices(order, seed);
    std::vector<char> held(size_t(nGroups), 0);
    for (int64_t k = 0; k < nValidation; ++k)
        held[size_t(order[size_t(k)])] = 1;

    std::vector<TrainingExample> kept;
    for (size_t i = 0; i < train.size(); ++i)
        (held[size_t(groupOf[i])] ? validation : kept).push_back(std::move(train[i]));
    train = std::move(kept);
}

} // namespace

const char* datasetFormatName(DatasetFormat format) {
    for (const FormatName& f : kFormatNames)
        if (f.format == format) return f.name;
    return "?";
}

Result<DatasetFormat> parseDatasetFormat(std::string_view name) {
    for (const FormatName& f : kFormatNames)
        if (name == f.name) return f.format;
    return Status(StatusCode::InvalidArgument,
                  "unknown dataset format '" + std::string(name) +
                      "'; expected auto, alpaca, sharegpt, openai or text");
}

Result<DatasetFormat> detectDatasetFormat(const std::string& path) {
    MOE_ASSIGN_OR_RETURN(auto reader, RecordReader::open(path, 1, 1));
    RawRecord first;
    MOE_ASSIGN_OR_RETURN(bool any, reader->next(first));
    if (reader->kind() == FileKind::Text) return DatasetFormat::PlainText;
    if (!any)
        return Status(StatusCode::InvalidArgument,
                      path + ": no records (an empty JSON array or file)");
    return formatOfRecord(*reader, first);
}

Result<TokenizedDataset> loadDataset(const std::string& path, const Tokenizer& tokenizer,
                                     const ChatTemplate* chatTemplate,
                                     const DatasetOptions& options) {
    if (options.maxSeqLen < 2)
        return Status(StatusCode::InvalidArgument,
                      "dataset options: maxSeqLen must be at least 2, got " +
                          std::to_string(options.maxSeqLen));
    if (!(options.validationFraction >= 0 && options.validationFraction < 1))
        return Status(StatusCode::InvalidArgument,
                      "dataset options: validationFraction must be in [0, 1), got " +
                          std::to_string(options.validationFraction));
    const bool separate = !options.validationPath.empty();
    if (separate && options.validationFraction > 0)
        return Status(StatusCode::InvalidArgument,
                      "dataset options: give a validation fraction or a validation file, not both");

    TokenizedDataset out;
    MOE_ASSIGN_OR_RETURN(out.format, resolveFormat(path, options.format));
    if (separate) {
        MOE_ASSIGN_OR_RETURN(out.validationFormat,
                             resolveFormat(options.validationPath, options.format));
    }
    std::optional<ChatTemplate> fallback;
    if (!chatTemplate) {
        MOE_ASSIGN_OR_RETURN(fallback, ChatTemplate::builtin("chatml"));
        chatTemplate = &*fallback;
    }
    const EncodeContext ctx(tokenizer, *chatTemplate, options);

    MOE_ASSIGN_OR_RETURN(LoadedFile train,
                         loadFile(path, out.format, ctx, 0.0, separate ? 0.8 : 1.0));
    out.train = std::move(train.examples);
    out.trainStats = train.stats;
    if (separate) {
        MOE_ASSIGN_OR_RETURN(LoadedFile val,
                             loadFile(options.validationPath, out.validationFormat, ctx, 0.8, 1.0));
        out.validation = std::move(val.examples);
        out.validationStats = val.stats;
    } else if (options.validationFraction > 0) {
        splitByFraction(out.train, out.validation, options.validationFraction, options.seed);
        // Records: those whose examples went to validation move with them.
        std::map<int64_t, bool> validationRecords;
        for (const TrainingExample& ex : out.validation)
            validationRecords[ex.record] = true;
        bool windowsSplit = false;
        for (const TrainingExample& ex : out.train)
            windowsSplit |= validationRecords.count(ex.record) > 0;
        if (!windowsSplit) {
            out.validationStats.records = int64_t(validationRecords.size());
            out.trainStats.records -= out.validationStats.records;
        }
    }
    countExamples(out.train, out.trainStats);
    countExamples(out.validation, out.validationStats);
    return out;
}

Result<DatasetPreview> previewDataset(const std::string& path, int maxRecords,
                                      DatasetFormat format) {
    DatasetPreview preview;
    MOE_ASSIGN_OR_RETURN(preview.format, resolveFormat(path, format));
    const int64_t want = std::max(maxRecords, 0);
    constexpr size_t kTextHead = 4096;
    MOE_ASSIGN_OR_RETURN(auto reader,
                         RecordReader::open(path, std::max<int64_t>(want, 1), kTextHead));
    RawRecord raw;
    Record record;
    while (int64_t(preview.records.size()) < want) {
        MOE_ASSIGN_OR_RETURN(bool more, reader->next(raw));
        if (!more) break;
        Status converted = convertRecord(raw, preview.format, reader->kind(), record);
        if (!converted.isOk())
            return Status(StatusCode::InvalidArgument,
                          reader->location(raw.index) + ": " + converted.message());
        DatasetPreviewRecord r;
        r.record = record.index;
        if (preview.format == DatasetFormat::PlainText)
            r.messages.push_back({"text", record.text});
        else
            r.messages = toChatMessages(record.turns);
        preview.records.push_back(std::move(r));
    }
    preview.complete = !reader->moreAfterLimit();
    return preview;
}

} // namespace moe
