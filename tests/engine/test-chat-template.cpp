// ChatTemplate against Python's jinja2. Goldens: for every template in tests/data/chat-templates
// (verbatim chat_template strings published with the models, see the README there) and every
// conversation in tests/data/chat-conversations.json, tests/engine/render-jinja.py renders the
// expected text at test time with Debian's /usr/bin/python3 + python3-jinja2 in the environment
// transformers builds (_compile_jinja_template); we compare byte for byte. Where jinja2 raises
// (e.g. Mistral's "roles must alternate"), we must raise the same message. Plus interpreter
// cases (Python semantics) checked against jinja2 the same way, and error positions.
#include "moe/chat-template.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

const QString kData = QStringLiteral(MOE_TEST_DATA_DIR);
const QString kPython = QStringLiteral("/usr/bin/python3");
const char* kBos = "<｜begin▁of▁sentence｜>";
const char* kEos = "</s>";

QString scriptPath() { return QDir(kData).absoluteFilePath(QStringLiteral("../engine/render-jinja.py")); }

QByteArray readFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

// Runs the reference; returns (ok, text) where !ok means jinja2 raised and text is its message
// (prefixed "python error: " when Python itself raised inside the template, e.g. str + None: we
// must fail too, in our own words).
std::pair<bool, QByteArray> reference(const QString& templatePath, const QJsonObject& c, const QString& dir) {
    QJsonObject cs = c;
    cs["bos_token"] = QString::fromUtf8(kBos);
    cs["eos_token"] = QString::fromUtf8(kEos);
    const QString casePath = dir + "/case.json";
    QFile f(casePath);
    if (!f.open(QIODevice::WriteOnly)) return {false, "cannot write case"};
    f.write(QJsonDocument(cs).toJson());
    f.close();
    QProcess p;
    p.start(kPython, {scriptPath(), templatePath, casePath});
    p.waitForFinished(60000);
    const QByteArray out = p.readAllStandardOutput();
    if (p.exitCode() == 3) return {false, out.mid(7)};
    if (p.exitCode() == 4) return {false, "python error: " + out.mid(7)};
    if (p.exitCode() != 0) return {false, "reference failed: " + p.readAllStandardError()};
    return {true, out};
}

moe::Result<std::string> ours(const moe::ChatTemplate& t, const QJsonObject& c) {
    moe::ChatTemplateInput in;
    in.messagesJson = QJsonDocument(c["messages"].toArray()).toJson(QJsonDocument::Compact).toStdString();
    in.addGenerationPrompt = c["add_generation_prompt"].toBool();
    in.bosToken = kBos;
    in.eosToken = kEos;
    if (c.contains("extra")) in.extraJson = QJsonDocument(c["extra"].toObject()).toJson().toStdString();
    return t.render(in);
}

} // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QProcess p;
        p.start(kPython, {"-c", "import jinja2"});
        p.waitForFinished(30000);
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
                 "reference needs /usr/bin/python3 with jinja2 (Debian python3-jinja2)");
        QVERIFY(m_dir.isValid());
    }

    void realTemplates_data() {
        QTest::addColumn<QString>("templatePath");
        QTest::addColumn<QJsonObject>("conversation");
        const QJsonArray convs =
            QJsonDocument::fromJson(readFile(kData + "/chat-conversations.json")).array();
        QVERIFY(convs.size() >= 10);
        const QStringList files = QDir(kData + "/chat-templates").entryList({"*.jinja"}, QDir::Files, QDir::Name);
        QVERIFY(files.size() >= 7);
        for (const QString& file : files)
            for (const auto& c : convs) {
                const QJsonObject o = c.toObject();
                const QString row = file + "/" + o["name"].toString();
                QTest::newRow(row.toUtf8().constData()) << kData + "/chat-templates/" + file << o;
            }
    }

    void realTemplates() {
        QFETCH(QString, templatePath);
        QFETCH(QJsonObject, conversation);
        auto compiled = moe::ChatTemplate::compile(readFile(templatePath).toStdString(), templatePath.toStdString());
        QVERIFY2(compiled.isOk(), compiled.status().message().c_str());
        const auto [refOk, expected] = reference(templatePath, conversation, m_dir.path());
        QVERIFY2(!expected.startsWith("reference failed"), expected.constData());
        auto got = ours(*compiled, conversation);
        if (!refOk) {
            QVERIFY2(!got.isOk(), ("jinja2 raised '" + expected + "' but we rendered").constData());
            if (expected.startsWith("python error: ")) return;
            QVERIFY2(QByteArray::fromStdString(got.status().message()).contains(expected),
                     (got.status().message() + " vs jinja2: " + expected.toStdString()).c_str());
            return;
        }
        QVERIFY2(got.isOk(), got.status().message().c_str());
        QCOMPARE(QByteArray::fromStdString(*got), expected);
    }

    // Each built-in equals its published file byte for byte.
    void builtinsAreVerbatim() {
        for (const std::string& name : moe::ChatTemplate::builtinNames()) {
            const QByteArray file = readFile(kData + "/chat-templates/" + QString::fromStdString(name) + ".jinja");
            QVERIFY2(!file.isEmpty(), name.c_str());
            QCOMPARE(QByteArray::fromStdString(moe::ChatTemplate::builtinSource(name)), file);
        }
        QVERIFY(!moe::ChatTemplate::builtin("no-such-template").isOk());
    }

    // Interpreter semantics on small templates, each compared with jinja2.
    void semantics_data() {
        QTest::addColumn<QString>("source");
        auto row = [](const char* name, const char* src) { QTest::newRow(name) << QString::fromUtf8(src); };
        row("slices", "{{ messages[::-1] | map(attribute='role') | join(',') }}|{{ 'héllo'[1:4] }}|{{ 'abc'[::-1] }}|{{ [1,2,3,4][-3:-1] }}|{{ 'abcdef'[::2] }}");
        row("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2.5 }} {{ 0.1 + 0.2 }} {{ 1e20 * 10 }} {{ 3 * 'ab' }}");
        row("truth", "{{ [] or 'e' }} {{ 0 and 1 }} {{ none }} {{ true }} {{ 1 == 1.0 }} {{ 'a' ~ 1 ~ none }} {{ not '' }}");
        row("loop", "{% for m in messages if m.role != 'system' %}{{ loop.index }}/{{ loop.length }}{{ loop.first }}{{ loop.last }}{{ loop.revindex }} {% else %}none{% endfor %}");
        row("loopctl", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{{ i }}{% endfor %}");
        row("scoping", "{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}{% set ns = namespace(n=0) %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}");
        row("strings", "{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}|{{ 'aaa'.replace('a','b',2) }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x','c')) }}");
        row("filters", "{{ '  t  ' | trim }}|{{ messages | length }}|{{ messages | first | tojson }}|{{ {'b': [1, 2.0, none, true], 'a': 'é\"'} | tojson }}|{{ {'b': 1, 'a': [1]} | tojson(indent=2, sort_keys=true) }}|{{ x | default('d') }}|{{ '' | default('e', true) }}|{{ '42' | int + 1 }}|{{ 'abc' | list }}|{{ [3,1] | last }}");
        row("select", "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='content') | list }}{{ {'k': 1, 'j': 2} | items | list }}");
        row("tests", "{{ x is defined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 1 is number }}{{ true is true }}{{ 1 is true }}{{ 'a' is sequence }}{{ 3 is odd }}{{ messages[0] is mapping }}");
        row("dicts", "{% for k, v in {'a': 1, 'b': [2]}.items() %}{{ k }}={{ v }};{% endfor %}{{ {'a': 1}.get('b', 'z') }}{{ {'a': 1}.get('c') }}{{ {'a': 1}.keys() | list }}{{ 'a' in {'a': 1} }}{{ messages[0]['nope'] is defined }}{{ messages[9] is defined }}");
        row("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('you') }} {{ greet('them', punct='?') }}");
        row("whitespace", "a  \n  {%- if true -%}  \n  b {% endif %}  {%+ if true %}c{% endif %}\n  {% if true %}\n  d\n  {% endif %}\n{# c #}\n  {{- ' e ' -}}  \n f {{ 'g' }}\n\n");
        row("setblock", "{% set body %}[{{ messages | length }}]{% endset %}{{ body ~ body }}{{ ('a', 'b') | join('-') }}{{ 'x' if false }}|{{ 'x' if false else 'y' }}");
        row("escapes", "{{ 'tab\\tq\\'\\x41\\u00e9\\n' }}{{ \"dq\\\"\" }}{{ 'adj' 'acent' }}");
    }

    void semantics() {
        QFETCH(QString, source);
        const QString path = m_dir.path() + "/t.jinja";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(source.toUtf8());
        f.close();
        QJsonObject c;
        c["messages"] = QJsonArray{QJsonObject{{"role", "system"}, {"content", "S"}},
                                   QJsonObject{{"role", "user"}, {"content", "U1"}},
                                   QJsonObject{{"role", "assistant"}, {"content", "A"}},
                                   QJsonObject{{"role", "user"}, {"content", "U2"}}};
        c["add_generation_prompt"] = true;
        const auto [refOk, expected] = reference(path, c, m_dir.path());
        QVERIFY2(refOk, expected.constData());
        auto compiled = moe::ChatTemplate::compile(source.toStdString());
        QVERIFY2(compiled.isOk(), compiled.status().message().c_str());
        auto got = ours(*compiled, c);
        QVERIFY2(got.isOk(), got.status().message().c_str());
        QCOMPARE(QByteArray::fromStdString(*got), expected);
    }

    void errors_data() {
        QTest::addColumn<QString>("source");
        QTest::addColumn<bool>("atCompile");
        QTest::addColumn<QString>("needle");
        QTest::newRow("raise") << "ok\n{{ raise_exception('Only user and assistant roles are supported!') }}" << false
                               << "line 2:4: template raised an exception: Only user and assistant roles are supported!";
        QTest::newRow("unclosed-if") << "{% if x %}\nabc" << true << "line 2:4: syntax error: expected 'elif' or 'else' or 'endif', got end of template";
        QTest::newRow("bad-token") << "a\n  {{ 1 + }}" << true << "line 2:10: syntax error: expected an expression, got '}}'";
        QTest::newRow("unknown-tag") << "{% frobnicate %}" << true << "line 1:4: syntax error: unknown tag 'frobnicate'";
        QTest::newRow("unterminated") << "x {{ 'abc }}" << true << "line 1:6: syntax error: unterminated string literal";
        QTest::newRow("undefined-attr") << "\n\n  {{ nothing.content }}" << false << "line 3:6: 'nothing' is undefined";
        QTest::newRow("bad-add") << "{{ 1 + 'a' }}" << false << "unsupported operand type(s) for +: 'int' and 'str'";
        QTest::newRow("immutable") << "{{ messages.append(1) }}" << false << "unsafe";
    }

    void errors() {
        QFETCH(QString, source);
        QFETCH(bool, atCompile);
        QFETCH(QString, needle);
        auto compiled = moe::ChatTemplate::compile(source.toStdString(), "t.jinja");
        std::string message;
        if (atCompile) {
            QVERIFY(!compiled.isOk());
            message = compiled.status().message();
        } else {
            QVERIFY2(compiled.isOk(), compiled.status().message().c_str());
            auto got = compiled->render(std::vector<moe::ChatMessage>{{"user", "hi"}}, true);
            QVERIFY(!got.isOk());
            message = got.status().message();
        }
        QVERIFY2(QString::fromStdString(message).contains(needle), message.c_str());
        QVERIFY2(message.rfind("t.jinja", 0) == 0, message.c_str());
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "test-chat-template.moc"
