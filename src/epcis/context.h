// The JSON-LD @context of an EPCIS 2.0 document, reduced to what medledger
// needs: how a key outside the standard's fields expands to a namespace and a
// local name (the event hash writes it "{namespace}local"), and how a compact
// IRI value ("gs1:ALARM_CONDITION") expands.
//
// A node never fetches a context. Known contexts are built in:
//   - the EPCIS 2.0 context (https://ref.gs1.org/standards/epcis/epcis-context.jsonld,
//     its 2.0.0/ versioned URL, and the gs1.github.io/EPCIS copy): its
//     prefixes epcis, cbv, cbvmda, gs1, rdfs, owl, xsd, dcterms; its terms are
//     the standard's fields, which the validator reads by name;
//   - the GS1 Egypt healthcare extension context
//     (https://ref.gs1eg.org/extensions/epcis/hc/2.0.0/hc-context.jsonld),
//     Apache-2.0, from openepcis/openepcis-document-converter.
// Any other context URL is refused, naming it: without its definitions the
// keys cannot be expanded and the hash would depend on a guess. Inline
// context objects may declare prefixes ("ext1": "https://ns.example.com/")
// and terms ({"@id": ..., "@type": ..., "@context": ...}); @vocab, @base,
// @import and other keywords that change expansion wholesale are refused, and
// so is a redefinition of a prefix or term of the EPCIS context (it is
// @protected in JSON-LD 1.1).
//
// Values; copying is cheap for the small maps a document declares.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "epcis/json.h"

namespace medledger::epcis {

// A key expanded through the context.
struct ExpandedKey {
  std::string ns;     // the namespace IRI as declared ("https://ns.example.com/epcis/")
  std::string local;  // the local name ("myField")
  // A term's own (scoped) @context, which applies inside the key's value;
  // nullptr when none.
  std::shared_ptr<const JsonValue> scoped_context;
  std::string Braced() const { return "{" + ns + "}" + local; }
};

class Context {
 public:
  // The EPCIS 2.0 context alone.
  static const Context& Standard();
  static bool IsStandardContextUrl(std::string_view url);

  // This context with `local` (a @context value: a URL, an object, or an
  // array of them) applied on top. `path` names `local` in messages
  // ("@context", "epcisBody.eventList[3].@context"). InvalidArgument for an
  // unknown URL, an unsupported keyword, a redefined EPCIS prefix or term, or
  // a malformed definition. `scoped`: `local` is a term's own @context,
  // which JSON-LD 1.1 lets redefine protected terms inside that term's value.
  Result<Context> Apply(const JsonValue& local, const std::string& path, bool scoped = false) const;

  // True once a @context applied so far named the EPCIS 2.0 context.
  bool names_standard() const { return names_standard_; }

  // A compact IRI whose prefix is declared ("ext1:name"), an absolute IRI
  // key ("https://ns.example.com/epcis/name", "urn:..."), or a term this
  // context defines. nullopt for anything else: a bare word the context does
  // not define, or a prefix nobody declared.
  std::optional<ExpandedKey> ExpandKey(std::string_view key) const;

  // The IRI of a compact IRI value whose prefix is declared; `value`
  // unchanged otherwise (absolute IRIs, bare words, undeclared prefixes).
  std::string ExpandValue(std::string_view value) const;

  // The prefix of a key written "prefix:rest" ("" when none), for messages.
  static std::string_view KeyPrefix(std::string_view key);

 private:
  struct Term {
    std::string iri;
    std::shared_ptr<const JsonValue> scoped;
  };
  Status ApplyValue(const JsonValue& local, const std::string& path, bool scoped);
  Status ApplyObject(const JsonValue& obj, const std::string& path, bool scoped);
  Status Define(const std::string& key, const JsonValue& def, const std::string& path, bool scoped);
  std::string ExpandIri(std::string_view s) const;

  std::map<std::string, std::string, std::less<>> prefixes_;
  std::map<std::string, Term, std::less<>> terms_;
  bool names_standard_ = false;
};

}  // namespace medledger::epcis
