// PanelRegistry: ordered panel specs (see the header).
#include "shell/panel-registry.h"

#include <algorithm>

namespace moe::ui {

void PanelRegistry::add(PanelSpec spec) {
    m_panels.removeIf([&](const PanelSpec& p) { return p.id == spec.id; });
    m_panels.append(std::move(spec));
    std::stable_sort(m_panels.begin(), m_panels.end(), [](const PanelSpec& a, const PanelSpec& b) {
        return a.order != b.order ? a.order < b.order : a.id < b.id;
    });
}

const PanelSpec* PanelRegistry::find(const QString& id) const {
    for (const PanelSpec& p : m_panels)
        if (p.id == id) return &p;
    return nullptr;
}

} // namespace moe::ui
