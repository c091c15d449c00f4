// `npm run check-links` (part of `npm test`): every local link and anchor in README.md and docs/*.md must
// point at a file or heading that exists. remark-validate-links works offline and never fetches a URL;
// `repository: false` keeps it from reading the Git remote, so links are resolved on disk only.
import remarkValidateLinks from "remark-validate-links";

export default {
  plugins: [
    [
      remarkValidateLinks,
      {
        repository: false,
      },
    ],
  ],
};
